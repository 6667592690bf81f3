import { Injectable } from '@nestjs/common';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import type { DataSource, EntityManager } from 'typeorm';
import { PrebuildsLock } from './advisory-locks.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';
import { sessionSettingsSql, workMemSetting } from './snapshot-session.sql.js';

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
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  /**
   * One statement: bound the transaction (`SET LOCAL statement_timeout` and `idle_in_transaction_session_timeout`,
   * through set_config(…, true)), try the transaction-scoped reconcile lock and read the pause flag. Transaction-scoped,
   * so commit or rollback releases the lock and nothing lingers on a pooled connection; the idle timeout ends a frozen
   * holder's session, which releases it too.
   */
  async tryReconcileLock(
    manager: EntityManager,
    bounds?: { statementTimeoutMs: number; idleTimeoutMs: number; workMemMb: number },
  ): Promise<{ acquired: boolean; paused: boolean }> {
    const [row] = await manager.query(
      // The snapshot's settings (PrebuildsSnapshotRepository.applySessionSettings), set here to spare a statement.
      `SELECT ${bounds ? `set_config('statement_timeout', $3, true), set_config('idle_in_transaction_session_timeout', $4, true), ${sessionSettingsSql('$5')},` : ''}
              pg_try_advisory_xact_lock($1, $2) AS acquired, s.reconciliation_paused AS paused
         FROM ${this.ns.schema}.prebuilds_settings s`,
      [
        this.ns.lockNamespace,
        PrebuildsLock.Reconcile,
        ...(bounds
          ? [
              String(Math.round(bounds.statementTimeoutMs)),
              String(Math.round(bounds.idleTimeoutMs)),
              workMemSetting(bounds.workMemMb),
            ]
          : []),
      ],
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

  /** Records a completed cycle at the database's now(), never a replica's clock (which may be skewed). */
  async recordCycle(durationMs: number, replica: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${this.ns.schema}.prebuilds_settings
          SET last_cycle_completed_at = now(), last_cycle_duration_ms = $1, last_cycle_replica = $2`,
      [Math.round(durationMs), replica],
    );
  }

  /**
   * The cluster's reconciler freshness: the last cycle of any replica and its age in database time (null before the
   * first cycle), with the pause flag. Compared in SQL, so a skewed replica clock cannot move it.
   */
  async freshness(): Promise<ClusterFreshness> {
    const [row] = await this.dataSource.query(
      `SELECT reconciliation_paused AS paused, last_cycle_completed_at AS "lastCycleAt",
              last_cycle_replica AS "lastCycleReplica",
              (extract(epoch FROM (now() - last_cycle_completed_at)) * 1000)::float8 AS "ageMs"
         FROM ${this.ns.schema}.prebuilds_settings`,
    );
    return {
      paused: row.paused,
      lastCycleAt: row.lastCycleAt,
      lastCycleReplica: row.lastCycleReplica,
      ageMs: row.ageMs === null ? null : Number(row.ageMs),
    };
  }
}

export interface ClusterFreshness {
  paused: boolean;
  lastCycleAt: Date | null;
  lastCycleReplica: string | null;
  /** now() − the last cycle, in database time; null before the first cycle. */
  ageMs: number | null;
}
