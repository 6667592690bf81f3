import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { createHealthController, type HealthPaths } from './health.controller.js';
import {
  HealthRouteConflictCheck,
  MappedRoutes,
  PREBUILDS_HEALTH_CONTROLLER,
} from './health-route-conflicts.js';
import { PREBUILDS_TERMINUS_MODULE, PrebuildsHealthIndicatorsModule } from './health-indicators.module.js';

/** `PrebuildsHealthModule.forRoot(options)`: where the probes are mapped, below the host's global prefix. */
export interface PrebuildsHealthModuleOptions {
  /** The liveness probe's path (default `healthz`), or `false` not to map it. */
  liveness?: string | false;
  /** The readiness probe's path (default `readyz`), or `false` not to map it. */
  readiness?: string | false;
}

const DEFAULT_PATHS: HealthPaths = { liveness: 'healthz', readiness: 'readyz' };

function healthModuleMetadata(paths: HealthPaths): ModuleMetadata {
  const mapsAny = paths.liveness !== false || paths.readiness !== false;
  const controller = createHealthController(paths);
  return {
    imports: [
      PREBUILDS_TERMINUS_MODULE,
      PrebuildsHealthIndicatorsModule,
      ...(mapsAny ? [DiscoveryModule] : []),
    ],
    controllers: mapsAny ? [controller] : [],
    providers: mapsAny
      ? [
          { provide: PREBUILDS_HEALTH_CONTROLLER, useValue: controller },
          MappedRoutes,
          HealthRouteConflictCheck,
        ]
      : [],
    exports: [PrebuildsHealthIndicatorsModule],
  };
}

/** What `forRoot` returns: a module class of its own, as PrebuildsHealthModule's metadata maps the default paths. */
@Module({})
class ConfiguredPrebuildsHealthModule {}

/**
 * Liveness and readiness probes (default `GET healthz` and `GET readyz`, below the host's global prefix). Import it
 * next to PrebuildsModule (it uses the module's DataSource, options, clock and settings, which PrebuildsModule exports
 * globally): plainly for the default paths, or `forRoot({ liveness, readiness })` to move a probe or turn it off.
 *
 * It never maps a path the application already maps: when another controller serves the same method and full path,
 * the application fails to start, naming both. A host with probes of its own turns the module's off and adds the
 * indicators (PrebuildsHealthIndicatorsModule, re-exported here) to its own.
 */
@Module(healthModuleMetadata(DEFAULT_PATHS))
export class PrebuildsHealthModule {
  static forRoot(options: PrebuildsHealthModuleOptions = {}): DynamicModule {
    return {
      module: ConfiguredPrebuildsHealthModule,
      ...healthModuleMetadata({
        liveness: options.liveness ?? DEFAULT_PATHS.liveness,
        readiness: options.readiness ?? DEFAULT_PATHS.readiness,
      }),
    };
  }
}
