import { Inject, Injectable, Logger } from '@nestjs/common';
import { BuildValidationError } from '../builder/build-errors.js';
import { WorkspaceBuilderService } from '../builder/workspace-builder.service.js';
import { PresetRepository } from '../database/preset.repository.js';
import { PrebuildsMetricsService, presetMetricLabels } from '../metrics/prebuilds-metrics.service.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import type { PresetSnapshot } from '../state/preset-snapshot.js';
import type { ReconciliationAction } from '../state/types.js';
import type { PresetCycleResult } from './cycle-result.js';

/** Shared by the presets of one cycle: how many creates the cycle may still write (maxCreatesPerCycle). */
export class CreateBudget {
  constructor(private remaining: number) {}

  take(wanted: number): number {
    const granted = Math.max(0, Math.min(wanted, this.remaining));
    this.remaining -= granted;
    return granted;
  }
}

/**
 * Carries out one preset's plan. Every action runs even when an earlier one failed (a failed delete must not stop a
 * cancel), and every failure is recorded with the preset's fields instead of thrown, so one bad preset never stops
 * a cycle.
 */
@Injectable()
export class PresetActionExecutor {
  private readonly logger = new Logger('PrebuildsReconciler');

  constructor(
    private readonly builder: WorkspaceBuilderService,
    private readonly presets: PresetRepository,
    private readonly metrics: PrebuildsMetricsService,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {}

  async execute(snapshot: PresetSnapshot, now: Date, budget: CreateBudget): Promise<PresetCycleResult> {
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
    const done: ReconciliationAction[] = [];
    const errors: string[] = [];
    for (const action of planned) {
      try {
        const outcome = await this.run(action, snapshot, state.desired, now, budget, fields);
        if (outcome) done.push(outcome);
      } catch (error) {
        const message = `${action.type}: ${(error as Error).message}`;
        errors.push(message);
        this.logger.error({
          msg: 'preset action failed',
          event: 'action_failed',
          action: action.type,
          error: message,
          ...fields,
        });
        if (error instanceof BuildValidationError) {
          await this.presets.setStatus([snapshot.presetId], 'validation_failed').catch(() => undefined);
          this.logger.warn({
            msg: 'preset parameters are invalid; creates stop',
            event: 'validation_failed',
            ...fields,
          });
        }
      }
    }
    return { presetId: snapshot.presetId, state, actions: done, errors };
  }

  private async run(
    action: ReconciliationAction,
    snapshot: PresetSnapshot,
    desired: number,
    now: Date,
    budget: CreateBudget,
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
            this.logger.log({
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
      case 'create': {
        let count = action.count;
        if (count > desired) {
          // The engine should never ask for more than desired; if it does, something upstream is wrong.
          this.logger.fatal({
            msg: 'create count above desired; clamped',
            event: 'create_clamped',
            wanted: count,
            ...fields,
          });
          count = desired;
        }
        count = budget.take(count);
        if (count === 0) return null;
        await this.builder.createPrebuilds(snapshot.presetId, count, now);
        this.metrics.recordCreated(presetMetricLabels(snapshot.preset), count);
        this.logger.log({ msg: 'creating prebuilds', event: 'create', count, ...fields });
        return { type: 'create', count };
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
