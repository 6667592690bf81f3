import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import { InjectPrebuildsDataSource } from '../database/prebuilds-data-source.js';
import { PrebuildsNamespace } from '../database/prebuilds-namespace.js';
import { appliedPrebuildsMigrations, pendingMigrationNames } from '../database/run-migrations.js';
import { withTimeout } from './with-timeout.js';

/**
 * Down while the module's schema lacks a migration this build knows about (a replica newer than its schema). Reads
 * the module's own migrations table, whatever migrations the host's DataSource lists. Never throws: a database that
 * fails or is slower than `timeout` is reported down.
 */
@Injectable()
export class MigrationsHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  async check(key = 'migrations', { timeout = 2000 }: { timeout?: number } = {}) {
    const session = this.health.check(key);
    try {
      const applied = await withTimeout(
        appliedPrebuildsMigrations((sql, params) => this.dataSource.query(sql, params), this.ns),
        timeout,
      );
      const pending = pendingMigrationNames(applied);
      return pending.length > 0 ? session.down({ message: 'pending migrations', pending }) : session.up();
    } catch (error) {
      return session.down({ message: (error as Error).message });
    }
  }
}
