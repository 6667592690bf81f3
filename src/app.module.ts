import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { prebuildsDataSourceOptions } from './prebuilds/database/data-source-options.js';
import { PrebuildsHealthModule } from './prebuilds/health/health.module.js';
import { PrebuildsBodyErrorFilter } from './prebuilds/http/prebuilds-body-error.filter.js';
import { PrebuildsModule } from './prebuilds/prebuilds.module.js';
import type { HostConfig } from './host/config/host-config.js';
import { HOST_CONFIG } from './host/config/host-config.token.js';
import { HostModule } from './host/host.module.js';

export interface AppModuleOptions {
  config: HostConfig;
  databaseUrl: string;
}

@Global()
@Module({})
class HostConfigModule {
  static register(config: HostConfig): DynamicModule {
    return {
      module: HostConfigModule,
      providers: [{ provide: HOST_CONFIG, useValue: config }],
      exports: [HOST_CONFIG],
    };
  }
}

/** The host control plane: its config, logging, database, auth, and the prebuilds module it mounts. */
@Module({})
export class AppModule {
  static register({ config, databaseUrl }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HostConfigModule.register(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            // Probes would drown the request log.
            autoLogging: { ignore: (req) => /\/(healthz|readyz|metrics)$/.test(req.url ?? '') },
            // Request logs include headers; a bearer token must never reach them.
            redact: ['req.headers.authorization'],
          },
        }),
        TypeOrmModule.forRoot(prebuildsDataSourceOptions(databaseUrl)),
        PrebuildsModule.forRootAsync({
          // The module never reads the environment; the host maps its own configuration.
          useFactory: (host: HostConfig) => ({
            enabled: host.prebuilds.enabled,
            reconcileIntervalMs: host.prebuilds.intervalMs,
            backoffIntervalMs: host.prebuilds.backoffIntervalMs,
            backoffLookbackMs: host.prebuilds.backoffLookbackMs,
            failureHardLimit: host.prebuilds.failureHardLimit,
            concurrency: host.prebuilds.concurrency,
            metricsToken: host.metricsToken,
          }),
          inject: [HOST_CONFIG],
        }),
        HostModule,
        PrebuildsHealthModule,
      ],
      // Body-parser errors (oversized, malformed JSON) happen before any route, so only a global filter sees them;
      // it renders just those in our error shape and leaves everything else to Nest.
      providers: [{ provide: APP_FILTER, useClass: PrebuildsBodyErrorFilter }],
    };
  }
}
