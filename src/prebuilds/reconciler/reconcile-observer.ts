import { Injectable } from '@nestjs/common';
import type { CapName } from '../state/create-caps.js';
import type { GlobalSnapshot } from '../state/global-snapshot.js';
import type { PresetRow } from '../state/types.js';

export interface CycleRecord {
  durationSeconds: number;
  completedAt: Date;
  paused: boolean;
}

/**
 * Where the reconciler's outcomes go besides the database and the logs: the metrics layer overrides this (a seam,
 * like ClaimObserver and JobObserver, so that reconciling does not depend on prom-client). The default does nothing.
 */
@Injectable()
export class ReconcileObserver {
  /** A full cycle's snapshot as of its `now`; an observer that needs per-preset figures computes them when asked. */
  recordSnapshot(_snapshot: GlobalSnapshot, _now: Date): void {}
  /** A full cycle ended. */
  recordCycle(_cycle: CycleRecord): void {}
  /** Reconciliation was found, or set, paused or running (also by the settings route, before the next cycle). */
  recordPaused(_paused: boolean): void {}
  /** A cap clamped a preset in a cycle (once per preset and cap per cycle). */
  recordCapClamp(_cap: CapName): void {}
  /** A cycle started creating `count` prebuilds of the preset. */
  recordCreated(_preset: PresetRow, _count: number): void {}
  /** A preset's target expression failed in a cycle (its scheduled target was used). */
  recordExpressionError(_preset: PresetRow, _error: string): void {}
  /** Seconds since any replica's last cycle, in database time (null: none yet). */
  recordClusterFreshness(_ageSeconds: number | null): void {}
}
