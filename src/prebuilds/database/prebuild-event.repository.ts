import { Injectable } from '@nestjs/common';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import type { DataSource } from 'typeorm';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

export type PrebuildEventType = 'claim_succeeded' | 'claim_missed';

/**
 * Claim events (hit or miss), written after a claim commits and deleted past `eventRetentionMs`. Nothing in the
 * module reads them back (metrics count claims in memory): they are a record for an operator's own SQL.
 */
@Injectable()
export class PrebuildEventRepository {
  constructor(
    private readonly ns: PrebuildsNamespace,
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
  ) {}

  async insert(presetId: string, type: PrebuildEventType, at: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO ${this.ns.schema}.prebuild_events (preset_id, event_type, created_at) VALUES ($1, $2, $3)`,
      [presetId, type, at],
    );
  }

  /** Served by idx_prebuild_events_created. Returns how many were deleted. */
  async deleteOlderThan(cutoff: Date): Promise<number> {
    const [, count] = await this.dataSource.query(
      `DELETE FROM ${this.ns.schema}.prebuild_events WHERE created_at < $1`,
      [cutoff],
    );
    return count ?? 0;
  }
}
