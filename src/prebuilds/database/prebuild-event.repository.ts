import { Injectable } from '@nestjs/common';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import type { DataSource, EntityManager } from 'typeorm';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

export type PrebuildEventType = 'claim_succeeded' | 'claim_missed';

export interface PrebuildEvent {
  presetId: string;
  type: PrebuildEventType;
  at: Date;
}

/**
 * Claim events (hit or miss), written in batches after claims commit (NotificationBatcher) and deleted past
 * `eventRetentionMs`. Each full cycle's history sample counts the new ones (PresetHistoryRepository.recordCycle);
 * metrics count claims in memory.
 */
@Injectable()
export class PrebuildEventRepository {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  /** Many events in one statement, inside `manager`'s transaction (with the wake-ups of the same claims). */
  async insertMany(manager: EntityManager, events: PrebuildEvent[]): Promise<void> {
    if (events.length === 0) return;
    await manager.query(
      `INSERT INTO ${this.ns.schema}.prebuild_events (preset_id, event_type, created_at)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])`,
      [events.map((e) => e.presetId), events.map((e) => e.type), events.map((e) => e.at)],
    );
  }

  /** insertMany by itself, outside any transaction (the batch's fallback when its transaction failed). */
  insertManyAlone(events: PrebuildEvent[]): Promise<void> {
    return this.insertMany(this.dataSource.manager, events);
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
