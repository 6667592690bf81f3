import { Injectable } from '@nestjs/common';
import { type CycleRecord, ReconcileObserver } from '../reconciler/reconcile-observer.js';
import type { CapName } from '../state/create-caps.js';
import type { GlobalSnapshot } from '../state/global-snapshot.js';
import type { PresetRow } from '../state/types.js';
import { PrebuildsMetricsService, presetMetricLabels } from './prebuilds-metrics.service.js';

/** Feeds the reconciler's outcomes into the metrics; bound in place of the no-op ReconcileObserver. */
@Injectable()
export class ReconcileMetricsObserver extends ReconcileObserver {
  constructor(private readonly metrics: PrebuildsMetricsService) {
    super();
  }

  override recordSnapshot(snapshot: GlobalSnapshot, now: Date): void {
    this.metrics.recordPaused(false);
    // A function: the gauges are computed from this snapshot when they are scraped, not here, every cycle.
    this.metrics.recordSnapshot(() =>
      snapshot.presetSnapshots().map((preset) => {
        const state = preset.calculateState(now);
        return {
          presetId: preset.presetId,
          ...presetMetricLabels(preset.preset),
          desired: state.desired,
          running: state.actual,
          eligible: state.eligible,
          hardLimited: preset.hardLimited || preset.preset.prebuildStatus === 'hard_limited',
          validationFailed: preset.preset.prebuildStatus === 'validation_failed',
        };
      }),
    );
  }

  override recordCycle(cycle: CycleRecord): void {
    this.metrics.recordCycle(cycle);
  }

  override recordPaused(paused: boolean): void {
    this.metrics.recordPaused(paused);
  }

  override recordCapClamp(cap: CapName): void {
    this.metrics.recordCapClamp(cap);
  }

  override recordCreated(preset: PresetRow, count: number): void {
    this.metrics.recordCreated(presetMetricLabels(preset), count);
  }

  override recordExpressionError(preset: PresetRow, _error: string): void {
    this.metrics.recordExpressionError(presetMetricLabels(preset));
  }

  override recordClusterFreshness(ageSeconds: number | null): void {
    this.metrics.recordLastCycleAge(ageSeconds);
  }
}
