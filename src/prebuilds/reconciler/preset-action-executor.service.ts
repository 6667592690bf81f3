import { Inject, Injectable } from '@nestjs/common';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { BuildValidationError } from '../builder/build-errors.js';
import { PrebuildCreatorService } from '../builder/prebuild-creator.service.js';
import { WorkspaceBuilderService } from '../builder/workspace-builder.service.js';
import { PresetRepository } from '../database/preset.repository.js';
import { ReconcileObserver } from './reconcile-observer.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import type { EntityManager } from 'typeorm';
import { PrebuildsSnapshotRepository } from '../database/snapshot.repository.js';
import { planCycle, type PresetPlan } from '../state/cycle-plan.js';
import type { PresetSnapshot } from '../state/preset-snapshot.js';
import type { ReconciliationAction } from '../state/types.js';
import type { PresetCycleResult } from './cycle-result.js';

export interface PendingPresetResult {
  result: PresetCycleResult;
  snapshot: PresetSnapshot;
  /** Prebuilds to create for this preset, written with every other preset's by finishCreates. */
  pendingCreate: number;
  /** Its cancels, deletes and backoff, in plan order, for carryOut; empty for a preset with nothing to write. */
  writes: WriteAction[];
  fields: Record<string, unknown>;
}

/** An action carryOut runs: everything but the create, which finishCreates writes across presets. */
export type WriteAction = Exclude<ReconciliationAction, { type: 'create' }>;

/**
 * What one cycle may create per preset, the caps of DESIGN.md rule 11 applied up front for all presets at once
 * (planCycle), so that the cycle does exactly what the plan shows whatever order the presets run in.
 */
export class CreateBudget {
  constructor(private readonly plans: ReadonlyMap<string, PresetPlan>) {}

  plan(presetId: string): PresetPlan | undefined {
    return this.plans.get(presetId);
  }

  /** The preset's create after the caps, at most `wanted`. */
  take(presetId: string, wanted: number): number {
    const plan = this.plans.get(presetId);
    if (!plan) return 0;
    const granted = plan.actions.reduce((sum, a) => sum + (a.type === 'create' ? a.count : 0), 0);
    return Math.max(0, Math.min(wanted, granted));
  }
}

/**
 * Carries out one preset's plan. Every action runs even when an earlier one failed (a failed delete must not stop a
 * cancel), and every failure is recorded with the preset's fields instead of thrown, so one bad preset never stops
 * a cycle.
 */
@Injectable()
export class PresetActionExecutor {
  private readonly logger = new PrebuildsLogger('PrebuildsReconciler');

  constructor(
    private readonly builder: WorkspaceBuilderService,
    private readonly creator: PrebuildCreatorService,
    private readonly presets: PresetRepository,
    private readonly observer: ReconcileObserver,
    private readonly snapshots: PrebuildsSnapshotRepository,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {}

  /**
   * The cycle's creates per preset with every cap applied. The cluster-wide counts are read (on the cycle's
   * snapshot transaction) only when some preset wants to create, so a quiet cycle costs no extra statement.
   */
  async budget(manager: EntityManager, presets: readonly PresetSnapshot[], now: Date): Promise<CreateBudget> {
    const backoff = this.options.backoffIntervalMs;
    let plan = planCycle(presets, now, backoff, this.options, null);
    if (plan.presets.some((preset) => preset.uncappedCreate > 0)) {
      const totals = await this.snapshots.readClusterTotals(manager);
      plan = planCycle(presets, now, backoff, this.options, totals);
    }
    // Only presets the caps or the plan touch: a quiet preset's result needs nothing from its plan (settle), and a
    // map of every preset's id cost a tenth of the no-op cycle at 100k presets.
    const touched = plan.presets.filter(
      (preset) => preset.actions.length > 0 || preset.capsApplied.length > 0,
    );
    return new CreateBudget(new Map(touched.map((preset) => [preset.presetId, preset])));
  }

  /**
   * The preset's outcome as far as it is known without writing: its state, its create (clamped and budgeted) as
   * `pendingCreate` for finishCreates, and the cancels, deletes and backoff left for carryOut in `writes`.
   * Synchronous, so that a cycle over many quiet presets allocates no promise per preset.
   */
  settle(snapshot: PresetSnapshot, now: Date, budget: CreateBudget): PendingPresetResult {
    const state = snapshot.calculateState(now);
    const planned = snapshot.calculateActions(now, this.options.backoffIntervalMs);
    const fields = {
      presetId: snapshot.presetId,
      preset: snapshot.preset.presetName,
      template: snapshot.preset.templateName,
      desired: state.desired,
      actual: state.actual,
      eligible: state.eligible,
    };
    const errors: string[] = [];
    const writes: WriteAction[] = [];
    let pendingCreate = 0;
    const capped = budget.plan(snapshot.presetId);
    for (const cap of capped?.capsApplied ?? []) {
      this.observer.recordCapClamp(cap);
      this.logger.log({
        msg: 'a cap clamped the preset',
        event: 'cap_clamped',
        cap,
        uncappedDesired: capped?.uncappedDesired,
        uncappedCreate: capped?.uncappedCreate,
        ...fields,
      });
    }
    for (const action of planned) {
      if (action.type !== 'create') writes.push(action);
      else pendingCreate = this.createCount(snapshot.presetId, action.count, state.desired, budget, fields);
    }
    return {
      result: {
        presetId: snapshot.presetId,
        state,
        actions: [],
        errors,
        cappedBy: capped?.cappedBy ?? null,
        uncappedDesired: capped?.uncappedDesired ?? snapshot.uncappedDesiredInstances(now),
        desiredSource: snapshot.desiredSource(now),
      },
      snapshot,
      pendingCreate,
      writes,
      fields,
    };
  }

  /**
   * Runs a settled preset's cancels and deletes and logs its backoff, in plan order, recording each outcome on its
   * result. Every action runs even when an earlier one failed.
   */
  async carryOut(entry: PendingPresetResult, now: Date): Promise<void> {
    const { result, snapshot, fields } = entry;
    for (const action of entry.writes) {
      try {
        const outcome = await this.run(action, snapshot, now, fields);
        if (outcome) result.actions.push(outcome);
      } catch (error) {
        const message = `${action.type}: ${(error as Error).message}`;
        result.errors.push(message);
        this.logger.error({
          msg: 'preset action failed',
          event: 'action_failed',
          action: action.type,
          error: message,
          ...fields,
        });
      }
    }
  }

  /** Writes every preset's pending create in cross-preset batches and records each outcome on its preset. */
  async finishCreates(pending: PendingPresetResult[], now: Date): Promise<void> {
    const creating = pending.filter((entry) => entry.pendingCreate > 0);
    const outcomes = await this.creator.createAcross(
      creating.map((entry) => ({ presetId: entry.snapshot.presetId, count: entry.pendingCreate })),
      now,
    );
    for (const { result, snapshot, fields } of creating) {
      const outcome = outcomes.get(snapshot.presetId) ?? { created: 0 };
      if (outcome.created > 0) {
        result.actions.push({ type: 'create', count: outcome.created });
        this.observer.recordCreated(snapshot.preset, outcome.created);
        this.logger.log({ msg: 'creating prebuilds', event: 'create', count: outcome.created, ...fields });
      }
      if (!outcome.error) continue;
      const message = `create: ${outcome.error.message}`;
      result.errors.push(message);
      this.logger.error({
        msg: 'preset action failed',
        event: 'action_failed',
        action: 'create',
        error: message,
        ...fields,
      });
      if (outcome.error instanceof BuildValidationError) {
        await this.presets.setStatus([snapshot.presetId], 'validation_failed').catch(() => undefined);
        this.logger.warn({
          msg: 'preset parameters are invalid; creates stop',
          event: 'validation_failed',
          ...fields,
        });
      }
    }
  }

  private createCount(
    presetId: string,
    wanted: number,
    desired: number,
    budget: CreateBudget,
    fields: Record<string, unknown>,
  ): number {
    let count = wanted;
    if (count > desired) {
      // The engine should never ask for more than desired; if it does, something upstream is wrong.
      this.logger.fatal({
        msg: 'create count above desired; clamped',
        event: 'create_clamped',
        wanted,
        ...fields,
      });
      count = desired;
    }
    return budget.take(presetId, count);
  }

  private async run(
    action: WriteAction,
    snapshot: PresetSnapshot,
    now: Date,
    fields: Record<string, unknown>,
  ): Promise<ReconciliationAction | null> {
    switch (action.type) {
      case 'cancel_pending': {
        const canceled = await this.builder.cancelPendingNonActive(snapshot.presetId, now);
        this.logger.log({ msg: 'canceled pending prebuilds', event: 'cancel_pending', canceled, ...fields });
        return canceled > 0 ? action : null;
      }
      case 'delete': {
        const deleted: string[] = [];
        for (const workspaceId of action.workspaceIds) {
          const outcome = await this.builder.deletePrebuild(workspaceId, now);
          if (outcome === 'deleted') deleted.push(workspaceId);
          else
            this.logger.debug({
              msg: 'prebuild not deleted',
              event: 'delete_skipped',
              workspaceId,
              reason: outcome,
              ...fields,
            });
        }
        this.logger.log({ msg: 'deleting prebuilds', event: 'delete', count: deleted.length, ...fields });
        return deleted.length > 0 ? { type: 'delete', workspaceIds: deleted } : null;
      }
      case 'backoff':
        this.logger.log({
          msg: 'backing off',
          event: 'backoff',
          until: action.until.toISOString(),
          ...fields,
        });
        return action;
    }
  }
}
