import { Inject, Injectable } from '@nestjs/common';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { InjectPrebuildsDataSource } from '../database/prebuilds-data-source.js';
import pLimit from 'p-limit';
import { performance } from 'node:perf_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../clock/clock.js';
import { PrebuildEventRepository } from '../database/prebuild-event.repository.js';
import { PresetHistoryRepository } from '../database/preset-history.repository.js';
import { PresetRepository } from '../database/preset.repository.js';
import { PrebuildsSettingsRepository } from '../database/settings.repository.js';
import { PrebuildsSnapshotRepository } from '../database/snapshot.repository.js';
import { ReconcileObserver } from './reconcile-observer.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import { ProvisionerJobService } from '../provisioner/provisioner-job.service.js';
import type { GlobalSnapshot } from '../state/global-snapshot.js';
import type { PresetSnapshot } from '../state/preset-snapshot.js';
import type { CycleResult, PresetCycleResult } from './cycle-result.js';
import { PresetActionExecutor } from './preset-action-executor.service.js';

/**
 * One reconciliation cycle: in a REPEATABLE READ, read-only transaction, try the cluster-wide advisory lock (losers
 * skip), read the pause flag and the snapshot, then carry out every preset's plan with bounded parallelism. The
 * transaction, and so the lock, stays open until every action has finished, so two replicas never act at once.
 * Actions write through their own connections and transactions.
 */
@Injectable()
export class ReconcilerService {
  private readonly logger = new PrebuildsLogger('PrebuildsReconciler');
  private inFlight: Promise<CycleResult> | null = null;
  private queuedFull: Promise<CycleResult> | null = null;
  /** The last error each preset's target expression gave, to log a change once. */
  private readonly lastExpressionErrors = new Map<string, string>();

  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly settings: PrebuildsSettingsRepository,
    private readonly snapshots: PrebuildsSnapshotRepository,
    private readonly presets: PresetRepository,
    private readonly events: PrebuildEventRepository,
    private readonly history: PresetHistoryRepository,
    private readonly executor: PresetActionExecutor,
    private readonly observer: ReconcileObserver,
    private readonly jobs: ProvisionerJobService,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {}

  reconcileAll(): Promise<CycleResult> {
    return this.run(null);
  }

  /** A cycle limited to one template's presets (after a claim, a finished job, or a template change). */
  reconcileTemplate(templateId: string): Promise<CycleResult> {
    return this.run(templateId);
  }

  /** Resolves when no cycle is running in this process. */
  async idle(): Promise<void> {
    while (this.inFlight || this.queuedFull) await (this.queuedFull ?? this.inFlight)?.catch(() => undefined);
  }

  private run(templateId: string | null): Promise<CycleResult> {
    const now = this.clock.now();
    if (this.inFlight) {
      if (templateId === null) {
        // A full cycle asked for while another cycle runs here waits and runs next (at most one queued), so a stream
        // of NOTIFY-triggered template cycles can never starve the interval.
        this.queuedFull ??= this.inFlight.then(
          () => this.startQueuedFull(),
          () => this.startQueuedFull(),
        );
        return this.queuedFull;
      }
      // A template cycle is skipped instead; the scheduler retries it.
      this.logger.debug({
        msg: 'cycle already running in this process; skipped',
        event: 'cycle_skipped',
        templateId,
      });
      return Promise.resolve(emptyResult(templateId, now, false, false));
    }
    // Cleared inside the chain, so that anything waiting on inFlight sees it cleared.
    const cycle = this.cycle(templateId, now).finally(() => {
      this.inFlight = null;
    });
    this.inFlight = cycle;
    return cycle;
  }

  private startQueuedFull(): Promise<CycleResult> {
    this.queuedFull = null;
    return this.run(null);
  }

  private async cycle(templateId: string | null, now: Date): Promise<CycleResult> {
    const started = performance.now();
    // Jobs whose provisioner lost its lease go back to the queue before the snapshot, so that it sees them pending.
    // Every replica may sweep (idempotent, SKIP LOCKED), so a lock holder that is gone does not keep them lost.
    if (templateId === null) await this.recoverExpiredLeases();
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    let result: CycleResult;
    try {
      await runner.startTransaction();
      await runner.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      // Bound the lock (DESIGN.md "Faults"): a statement stuck, or a holder frozen while idle in the transaction,
      // ends the session and so releases the advisory lock; another replica's cycle follows. SET LOCAL, in the lock's
      // own statement.
      const lock = await this.settings.tryReconcileLock(runner.manager, {
        statementTimeoutMs: this.options.reconcileStatementTimeoutMs,
        idleTimeoutMs: this.options.reconcileIdleTimeoutMs,
        workMemMb: this.options.snapshotWorkMemMb,
      });
      if (!lock.acquired) {
        this.logger.log({
          msg: 'another replica holds the reconcile lock; skipped',
          event: 'lock_not_acquired',
          templateId,
        });
        result = emptyResult(templateId, now, false, lock.paused);
      } else if (lock.paused) {
        this.logger.log({ msg: 'reconciliation is paused', event: 'cycle_paused', templateId });
        this.observer.recordPaused(true);
        result = emptyResult(templateId, now, true, true);
      } else {
        // The actions write on other connections while this one idles in its transaction: a live holder pings it
        // so the idle timeout only ever ends a frozen one.
        const keepAlive = setInterval(
          () => void runner.query('SELECT 1').catch(() => undefined),
          Math.max(50, Math.floor(this.options.reconcileIdleTimeoutMs / 3)),
        );
        try {
          result = await this.reconcileSnapshot(runner.manager, templateId, now);
        } finally {
          clearInterval(keepAlive);
        }
      }
    } finally {
      // Read-only: commit and rollback are the same; either ends the snapshot and releases the lock.
      await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    }
    result.elapsedMs = performance.now() - started;
    if (result.acquired && !result.paused) await this.afterCycle(result, now);
    return result;
  }

  private async reconcileSnapshot(
    manager: EntityManager,
    templateId: string | null,
    now: Date,
  ): Promise<CycleResult> {
    const snapshot = await this.snapshots.readSnapshot(
      manager,
      {
        now,
        templateId,
        backoffLookbackMs: this.options.backoffLookbackMs,
        failureHardLimit: this.options.failureHardLimit,
      },
      this.options,
    );
    await this.markHardLimited(snapshot);

    const limit = pLimit(this.options.concurrency);
    const work = snapshot.presetSnapshots().filter((preset) => !preset.canSkipReconciliation());
    this.reportExpressionErrors(work, now);
    // The caps of DESIGN.md rule 11, applied to every preset's create before any runs (deletes are never capped).
    const budget = await this.executor.budget(manager, work, now);
    const pending = work.map((preset) => this.executor.settle(preset, now, budget));
    // Only presets with something to cancel or delete wait for writes; a quiet preset costs no promise.
    await Promise.all(
      pending
        .filter((entry) => entry.writes.length > 0)
        .map((entry) => limit(() => this.executor.carryOut(entry, now))),
    );
    await this.executor.finishCreates(pending, now);
    const presets: PresetCycleResult[] = pending.map((entry) => entry.result);
    // Gauges describe the whole cluster, so only a full cycle may replace them (a template cycle sees a part).
    if (templateId === null) this.observer.recordSnapshot(snapshot, now);
    return {
      acquired: true,
      paused: false,
      templateId,
      startedAt: now,
      elapsedMs: 0,
      presetsTotal: snapshot.presets.length,
      presetsReconciled: work.length,
      presets,
    };
  }

  /**
   * Counts every failed target expression, and logs one when its error changes (not every cycle: a division by
   * zero that holds for an hour is one story, not 240 lines).
   */
  private reportExpressionErrors(presets: readonly PresetSnapshot[], now: Date): void {
    for (const preset of presets) {
      const outcome = preset.expressionOutcome(now);
      const error = outcome?.error ?? null;
      if (error !== null) this.observer.recordExpressionError(preset.preset, error);
      if (this.lastExpressionErrors.get(preset.presetId) === error) continue;
      if (error === null) {
        if (this.lastExpressionErrors.delete(preset.presetId) && outcome)
          this.logger.log({
            msg: 'target expression evaluates again',
            event: 'target_expression_recovered',
            presetId: preset.presetId,
          });
        continue;
      }
      if (this.lastExpressionErrors.size >= 10_000) this.lastExpressionErrors.clear();
      this.lastExpressionErrors.set(preset.presetId, error);
      this.logger.warn({
        msg: 'target expression failed; using the scheduled target',
        event: 'target_expression_failed',
        presetId: preset.presetId,
        expression: outcome?.expression,
        error,
        scheduledTarget: outcome?.scheduledTarget,
      });
    }
  }

  /** Stores the hard-limited status of presets that just reached the limit (the engine already blocks creates). */
  private async markHardLimited(snapshot: GlobalSnapshot): Promise<void> {
    const reached = snapshot
      .presetSnapshots()
      .filter((slice) => slice.preset.prebuildStatus === 'healthy' && slice.hardLimited)
      .map((slice) => slice.presetId);
    const changed = await this.presets.setStatus(reached, 'hard_limited');
    for (const presetId of changed) {
      this.logger.warn({
        msg: 'preset reached the failure hard limit; creates stop until an admin resumes it',
        event: 'hard_limited',
        presetId,
        failureHardLimit: this.options.failureHardLimit,
      });
    }
  }

  private async recoverExpiredLeases(): Promise<void> {
    try {
      await this.jobs.recoverExpiredLeases();
    } catch (error) {
      this.logger.warn({
        msg: 'lease sweep failed',
        event: 'lease_sweep_failed',
        error: (error as Error).message,
      });
    }
  }

  /**
   * Bookkeeping outside the lock: stats log, the cluster's last-cycle record, event retention, the stale-job sweep
   * and the presets' history (full cycles only).
   */
  private async afterCycle(result: CycleResult, now: Date): Promise<void> {
    const actions = result.presets.reduce((sum, preset) => sum + preset.actions.length, 0);
    const errors = result.presets.reduce((sum, preset) => sum + preset.errors.length, 0);
    this.logger.log({
      msg: 'reconcile cycle done',
      event: 'cycle_done',
      templateId: result.templateId,
      elapsedMs: Math.round(result.elapsedMs),
      presetsTotal: result.presetsTotal,
      presetsReconciled: result.presetsReconciled,
      actions,
      errors,
    });
    if (result.templateId !== null) return;
    this.observer.recordCycle({
      durationSeconds: result.elapsedMs / 1000,
      // The cycle's own `now`, not a second reading of the clock after it (the engine decided as of that time).
      completedAt: now,
      paused: false,
    });
    try {
      // Database time (now() in SQL): a replica's skewed clock can neither hide nor fake staleness.
      await this.settings.recordCycle(result.elapsedMs, this.options.replicaId);
      await this.events.deleteOlderThan(new Date(now.getTime() - this.options.eventRetentionMs));
      if (this.options.jobTimeoutMs > 0) await this.jobs.failStaleJobs(this.options.jobTimeoutMs);
    } catch (error) {
      this.logger.error({
        msg: 'cycle bookkeeping failed',
        event: 'cycle_bookkeeping_failed',
        error: (error as Error).message,
      });
    }
    await this.recordHistory(result, now);
  }

  /**
   * One statement for every reconciled preset. Apart from the bookkeeping above, so that neither can hold the other
   * back; a failed write loses this cycle's gauges only (its claims stay uncounted, for the next sample).
   */
  private async recordHistory(result: CycleResult, now: Date): Promise<void> {
    try {
      await this.history.recordCycle(
        now,
        result.presets.map(({ presetId, state }) => ({
          presetId,
          desired: state.desired,
          running: state.actual,
          eligible: state.eligible,
          starting: state.starting,
        })),
      );
    } catch (error) {
      this.logger.error({
        msg: 'preset history not recorded',
        event: 'history_write_failed',
        error: (error as Error).message,
      });
    }
  }
}

function emptyResult(templateId: string | null, now: Date, acquired: boolean, paused: boolean): CycleResult {
  return {
    acquired,
    paused,
    templateId,
    startedAt: now,
    elapsedMs: 0,
    presetsTotal: 0,
    presetsReconciled: 0,
    presets: [],
  };
}
