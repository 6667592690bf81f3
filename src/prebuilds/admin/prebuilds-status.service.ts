import { Inject, Injectable } from '@nestjs/common';
import { InjectPrebuildsDataSource } from '../database/prebuilds-data-source.js';
import type { DataSource } from 'typeorm';
import { ClaimObserver } from '../claim/claim-observer.js';
import { Clock } from '../clock/clock.js';
import { PrebuildReportRepository } from '../database/prebuild-report.repository.js';
import { PrebuildsSettingsRepository } from '../database/settings.repository.js';
import { PrebuildsSnapshotRepository } from '../database/snapshot.repository.js';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import type { CapName, ClusterTotals } from '../state/create-caps.js';
import { planCycle, type PresetPlan } from '../state/cycle-plan.js';
import type { GlobalSnapshot } from '../state/global-snapshot.js';
import { hitRates } from '../state/demand.js';
import { ExpiryRule } from '../state/running-prebuilds.js';
import type {
  PlanResponse,
  PresetCapFields,
  PresetPrebuild,
  PresetStatus,
  StatusResponse,
} from './prebuilds-status.types.js';

/**
 * Read-only views computed live from a fresh snapshot, with the same engine the reconciler runs, so that what
 * the status and plan say is what a cycle would do. No lock: reading never blocks the reconciler.
 */
@Injectable()
export class PrebuildsStatusService {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly snapshots: PrebuildsSnapshotRepository,
    private readonly reports: PrebuildReportRepository,
    private readonly settings: PrebuildsSettingsRepository,
    private readonly claims: ClaimObserver,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {}

  async status(): Promise<StatusResponse> {
    const now = this.clock.now();
    const { snapshot, failures, totals } = await this.read(now, true);
    const settings = await this.settings.get();
    const freshness = await this.settings.freshness();
    const failedStopped = new Map(failures.map((row) => [row.presetId, row]));
    const plans = this.capped(snapshot, now, totals);
    const presets: PresetStatus[] = snapshot.presetSnapshots().map((preset) => {
      const row = preset.preset;
      const until = preset.backoffUntil(now, this.options.backoffIntervalMs);
      const plan = plans.get(preset.presetId);
      return {
        presetId: row.presetId,
        presetName: row.presetName,
        templateId: row.templateId,
        templateName: row.templateName,
        templateVersionId: row.templateVersionId,
        organizationId: row.organizationId,
        active: preset.isActive(),
        status: preset.hardLimited && row.prebuildStatus === 'healthy' ? 'hard_limited' : row.prebuildStatus,
        desiredSource: preset.desiredSource(now),
        expression: preset.expressionOutcome(now),
        demand: {
          claims: preset.claims,
          misses: preset.misses,
          hitRate: hitRates(preset.claims, preset.misses),
        },
        ...preset.calculateState(now),
        failed: failedStopped.get(row.presetId)?.failed ?? 0,
        stopped: failedStopped.get(row.presetId)?.stopped ?? 0,
        backoffUntil: until && now.getTime() <= until.getTime() ? until.toISOString() : null,
        ...capFields(plan, preset.uncappedDesiredInstances(now), preset.desiredCappedBy(now)),
      };
    });
    return {
      paused: settings.reconciliationPaused,
      lastCycleAt: settings.lastCycleCompletedAt?.toISOString() ?? null,
      lastCycleDurationMs: settings.lastCycleDurationMs,
      lastCycleReplica: settings.lastCycleReplica,
      lastCycleAgeMs: freshness.ageMs === null ? null : Math.round(freshness.ageMs),
      replicaId: this.options.replicaId,
      claimLatencySeconds: await this.claims.claimLatency(),
      presets,
    };
  }

  /** What a cycle would do now, pause ignored (the answer says whether it is paused); executes nothing. */
  async plan(): Promise<PlanResponse> {
    const now = this.clock.now();
    const { snapshot, totals } = await this.read(now, false);
    const settings = await this.settings.get();
    const plans = this.capped(snapshot, now, totals);
    return {
      paused: settings.reconciliationPaused,
      presets: snapshot
        .presetSnapshots()
        .filter((preset) => !preset.canSkipReconciliation())
        .map((preset) => {
          const plan = plans.get(preset.presetId) as PresetPlan;
          return {
            presetId: preset.presetId,
            state: plan.state,
            actions: plan.actions,
            desiredSource: preset.desiredSource(now),
            expression: preset.expressionOutcome(now),
            ...capFields(plan, plan.uncappedDesired, preset.desiredCappedBy(now)),
          };
        }),
    };
  }

  /** Every cap of DESIGN.md rule 11 applied as a cycle would, over the presets a cycle would reconcile. */
  private capped(snapshot: GlobalSnapshot, now: Date, totals: ClusterTotals): Map<string, PresetPlan> {
    const work = snapshot.presetSnapshots().filter((preset) => !preset.canSkipReconciliation());
    const plan = planCycle(work, now, this.options.backoffIntervalMs, this.options, totals);
    return new Map(plan.presets.map((preset) => [preset.presetId, preset]));
  }

  async presetPrebuilds(presetId: string): Promise<PresetPrebuild[]> {
    const nowMs = this.clock.now().getTime();
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const preset = await this.reports.findPresetExpiry(manager, presetId);
      if (!preset)
        throw new PrebuildsException(PrebuildsErrorCode.PresetNotFound, `preset ${presetId} not found`);
      const expiry = new ExpiryRule(preset);
      const rows = await this.reports.listPresetPrebuilds(manager, presetId);
      return rows.map((row) => ({
        id: row.id,
        name: row.name,
        createdAt: row.createdAt.toISOString(),
        transition: row.transition,
        jobStatus: row.jobStatus,
        ready: row.ready,
        // Only a running prebuild can be expired (the engine's rule); the others are on their way in or out.
        expired:
          row.transition === 'start' &&
          row.jobStatus === 'succeeded' &&
          expiry.isExpired(row.createdAt.getTime(), nowMs),
      }));
    });
  }

  private read(now: Date, forStatus: boolean) {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      await this.snapshots.applySessionSettings(manager, this.options.snapshotWorkMemMb);
      const snapshot = await this.snapshots.readSnapshot(
        manager,
        {
          now,
          templateId: null,
          backoffLookbackMs: this.options.backoffLookbackMs,
          failureHardLimit: this.options.failureHardLimit,
          withDemand: forStatus,
        },
        this.options,
      );
      const failures = forStatus ? await this.reports.countFailedAndStopped(manager, null) : [];
      const totals = await this.snapshots.readClusterTotals(manager);
      return { snapshot, failures, totals };
    });
  }
}

/**
 * What the status and the plan say about the caps of one preset. A preset a cycle would not reconcile (inactive,
 * nothing left) has no plan; only the per-preset cap can concern it then.
 */
function capFields(
  plan: PresetPlan | undefined,
  uncappedDesired: number,
  perPreset: CapName | null,
): PresetCapFields {
  return {
    cappedBy: plan ? plan.cappedBy : perPreset,
    capsApplied: plan ? plan.capsApplied : perPreset ? [perPreset] : [],
    uncappedDesired,
    uncappedCreate: plan ? plan.uncappedCreate : 0,
  };
}
