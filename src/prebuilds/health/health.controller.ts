import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { MigrationsHealthIndicator } from './migrations.health.js';
import { ReconcilerFreshnessIndicator } from './reconciler-freshness.health.js';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly migrations: MigrationsHealthIndicator,
    private readonly reconciler: ReconcilerFreshnessIndicator,
  ) {}

  /** Liveness: the process answers. Deliberately checks nothing else, so a database outage does not restart it. */
  @Get('healthz')
  liveness() {
    return { status: 'ok' };
  }

  /** Readiness: the database answers, its schema is current, and the pools are being reconciled. */
  @Get('readyz')
  @HealthCheck()
  readiness() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 2000 }),
      () => this.migrations.check(),
      () => this.reconciler.check(),
    ]);
  }
}
