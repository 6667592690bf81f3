import type { CapName } from '../state/create-caps.js';
import type { ReconciliationAction, ReconciliationState } from '../state/types.js';

export interface PresetCycleResult {
  presetId: string;
  state: ReconciliationState;
  /** What was carried out (a create clamped or budgeted shows the count written). */
  actions: ReconciliationAction[];
  errors: string[];
  /** The cap that clamped the preset this cycle (DESIGN.md rule 11), or null. */
  cappedBy?: CapName | null;
  /** The desired count before maxInstancesPerPreset. */
  uncappedDesired?: number;
  /** 'base', 'expression' (its target expression decided) or the cron of the schedule that did. */
  desiredSource?: string;
}

export interface CycleResult {
  /** False when another replica held the lock (or a cycle was already running in this process). */
  acquired: boolean;
  paused: boolean;
  templateId: string | null;
  startedAt: Date;
  elapsedMs: number;
  presetsTotal: number;
  presetsReconciled: number;
  presets: PresetCycleResult[];
}
