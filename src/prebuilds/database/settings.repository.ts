import { Injectable } from '@nestjs/common';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import type { DataSource, EntityManager } from 'typeorm';
import { PrebuildsLock } from './advisory-locks.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

export interface PrebuildsSettings {
  reconciliationPaused: boolean;
  lastCycleCompletedAt: Date | null;
  lastCycleDurationMs: number | null;
  lastCycleReplica: string | null;
}

/** The cluster-wide settings row and the reconcile lock. */
@Injectable()
export class PrebuildsSettingsRepository {
  constructor(
    private readonly ns: PrebuildsNamespace,
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * One statement: try the transaction-scoped reconcile lock and read the pause flag. Transaction-scoped, so commit
   * or rollback releases it and nothing lingers on a pooled connection.
   */
  async tryReconcileLock(manager: EntityManager): Promise<{ acquired: boolean; paused: boolean }> {
    const [row] = await manager.query(
      `SELECT pg_try_advisory_xact_lock($1, $2) AS acquired, s.reconciliation_paused AS paused
         FROM ${this.ns.schema}.prebuilds_settings s`,
      [this.ns.lockNamespace, PrebuildsLock.Reconcile],
    );
    return { acquired: row.acquired, paused: row.paused };
  }

  async get(): Promise<PrebuildsSettings> {
    const [row] = await this.dataSource.query(
      `SELECT reconciliation_paused AS "reconciliationPaused", last_cycle_completed_at AS "lastCycleCompletedAt",
              last_cycle_duration_ms AS "lastCycleDurationMs", last_cycle_replica AS "lastCycleReplica"
         FROM ${this.ns.schema}.prebuilds_settings`,
    );
    return row;
  }

  async setPaused(paused: boolean): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${this.ns.schema}.prebuilds_settings SET reconciliation_paused = $1`,
      [paused],
    );
  }

  async recordCycle(completedAt: Date, durationMs: number, replica: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${this.ns.schema}.prebuilds_settings
          SET last_cycle_completed_at = $1, last_cycle_duration_ms = $2, last_cycle_replica = $3`,
      [completedAt, Math.round(durationMs), replica],
    );
  }
}
