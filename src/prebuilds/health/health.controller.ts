import { Controller, Get, ServiceUnavailableException, type Type } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { PrebuildsDatabaseHealthIndicator } from './database.health.js';
import { MigrationsHealthIndicator } from './migrations.health.js';

/** The paths the probes are mapped at (below the host's global prefix), or `false` for a probe not mapped. */
export interface HealthPaths {
  liveness: string | false;
  readiness: string | false;
}

/**
 * A controller class mapping only the probes `paths` enables, at those paths: route paths are decorator metadata, so
 * each configuration gets a class of its own.
 */
export function createHealthController(paths: HealthPaths): Type {
  @Controller()
  class HealthController {
    constructor(
      readonly health: HealthCheckService,
      readonly database: PrebuildsDatabaseHealthIndicator,
      readonly migrations: MigrationsHealthIndicator,
    ) {}

    /** Liveness: the process answers. Deliberately checks nothing else, so a database outage does not restart it. */
    liveness() {
      return { status: 'ok' };
    }

    /**
     * Readiness of THIS replica: the database answers and the module's migrations are applied; 503 otherwise. The
     * cluster's reconciler freshness is deliberately not part of it (one stalled replica must not take every
     * replica out of its load balancer): it is in the status, the `prebuilds_cluster_last_cycle_age_seconds` gauge
     * and the exported ReconcilerFreshnessIndicator a host may add to a probe of its own.
     */
    async readiness() {
      try {
        return await this.health.check([
          () => this.database.pingCheck('database', { timeout: 2000 }),
          () => this.migrations.check(),
        ]);
      } catch (error) {
        // Whatever failed, the answer is a 503: terminus' fields, and the module's error shape beside them.
        const result =
          error instanceof ServiceUnavailableException && typeof error.getResponse() === 'object'
            ? (error.getResponse() as { error?: Record<string, unknown> })
            : { status: 'error', info: {}, error: {}, details: {} };
        const down = Object.keys(result.error ?? {});
        throw new ServiceUnavailableException({
          statusCode: 503,
          code: down.includes('database') ? 'DATABASE_UNAVAILABLE' : 'UNAVAILABLE',
          message: `not ready: ${down.length > 0 ? down.join(', ') : (error as Error).message} down`,
          ...result,
        });
      }
    }
  }

  const route = (methodName: 'liveness' | 'readiness', decorators: MethodDecorator[]) => {
    const descriptor = Object.getOwnPropertyDescriptor(HealthController.prototype, methodName)!;
    for (const decorate of decorators.reverse()) decorate(HealthController.prototype, methodName, descriptor);
  };
  if (paths.liveness !== false) route('liveness', [Get(paths.liveness)]);
  if (paths.readiness !== false) route('readiness', [Get(paths.readiness), HealthCheck()]);
  return HealthController;
}
