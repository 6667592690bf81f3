import { Controller, Get, type Type } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { PrebuildsDatabaseHealthIndicator } from './database.health.js';
import { MigrationsHealthIndicator } from './migrations.health.js';
import { ReconcilerFreshnessIndicator } from './reconciler-freshness.health.js';

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
      readonly reconciler: ReconcilerFreshnessIndicator,
    ) {}

    /** Liveness: the process answers. Deliberately checks nothing else, so a database outage does not restart it. */
    liveness() {
      return { status: 'ok' };
    }

    /** Readiness: the database answers, its schema is current, and the pools are being reconciled. */
    readiness() {
      return this.health.check([
        () => this.database.pingCheck('database', { timeout: 2000 }),
        () => this.migrations.check(),
        () => this.reconciler.check(),
      ]);
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
