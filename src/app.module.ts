import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { PrebuildsHealthModule, PrebuildsModule } from 'nest-prebuilds';
import { ROLE_PERMISSIONS } from './host/auth/roles.js';
import type { HostConfig } from './host/config/host-config.js';
import { HOST_CONFIG } from './host/config/host-config.token.js';
import { hostDataSourceOptions } from './host/database/host-data-source.js';
import { HostModule } from './host/host.module.js';
import { HostErrorFilter } from './host/http/host-error.filter.js';

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
            // Readable lines in a terminal; JSON everywhere else (files, collectors, CI).
            ...(config.prettyLogs
              ? { transport: { target: 'pino-pretty', options: { singleLine: true, colorize: true } } }
              : {}),
            // No log line of ours carries headers; should one ever, a bearer token must still not reach it.
            redact: ['req.headers.authorization', 'req.headers["prebuilds-provisioner-key"]'],
          },
          // The request log is RequestLogMiddleware (HostModule): pino-http's costs more per request than the claim.
          forRoutes: [],
        }),
        // The host's one DataSource; the module queries it too, naming its own schema in every statement.
        TypeOrmModule.forRoot(hostDataSourceOptions(databaseUrl)),
        PrebuildsModule.forRootAsync({
          // The module never reads the environment; the host maps what its environment sets, and its roles.
          useFactory: (host: HostConfig) => ({
            ...host.prebuilds,
            authorization: { rolePermissions: ROLE_PERMISSIONS },
          }),
          inject: [HOST_CONFIG],
          // External provisioner daemons attach over HTTP with provisioner keys (PROVISIONER_ENABLED=false).
          provisionerApi: true,
        }),
        HostModule,
        PrebuildsHealthModule,
      ],
      // Body-parser errors (oversized, malformed, too deep JSON), auth middleware failures and unknown routes happen
      // before any route, so only a global filter sees them; it renders them in the API's error shape.
      providers: [{ provide: APP_FILTER, useClass: HostErrorFilter }],
    };
  }
}
