import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import { InjectPrebuildsDataSource } from '../database/prebuilds-data-source.js';

/**
 * Pings the module's DataSource (the host's default one, or the one named by PrebuildsModule's `dataSource` extra).
 * terminus' TypeOrmHealthIndicator pings the default connection, which need not be the module's. Never throws: an
 * unreachable or uninitialised database, or one slower than `timeout`, is reported down.
 */
@Injectable()
export class PrebuildsDatabaseHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
  ) {}

  async pingCheck(key = 'database', { timeout = 2000 }: { timeout?: number } = {}) {
    const session = this.health.check(key);
    return session
      .attempt(async () => {
        if (!this.dataSource.isInitialized) throw new Error('the DataSource is not initialized');
        await this.dataSource.query('SELECT 1');
      })
      .withTimeout(timeout);
  }
}
