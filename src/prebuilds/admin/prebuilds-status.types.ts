import type { CapName } from '../state/create-caps.js';
import type { PrebuildStatus, ReconciliationAction, ReconciliationState } from '../state/types.js';

/** Whether and how a cap of DESIGN.md rule 11 clamped a preset (the plan and the status carry these). */
export interface PresetCapFields {
  /**
   * The cap that clamped the preset: `maxInstancesPerPreset` clamped its desired count, a cluster cap
   * (`maxCreatesPerCycle`, `maxInFlightCreates`, `maxPrebuilds`) its creates this cycle (the cluster cap is named
   * when both did). null: no cap did.
   */
  cappedBy: CapName | null;
  /** Every cap that clamped it, per-preset first. */
  capsApplied: CapName[];
  /** The desired count before maxInstancesPerPreset (equal to `desired` when it did not clamp). */
  uncappedDesired: number;
  /** The creates the engine asked for before the cluster caps (0 when none). */
  uncappedCreate: number;
}

export interface PresetStatus extends ReconciliationState, PresetCapFields {
  presetId: string;
  presetName: string;
  templateId: string;
  templateName: string;
  templateVersionId: string;
  organizationId: string;
  active: boolean;
  status: PrebuildStatus;
  /** 'base', or the cron of the schedule that gives the desired count now. */
  desiredSource: string;
  failed: number;
  stopped: number;
  backoffUntil: string | null;
}

export interface StatusResponse {
  paused: boolean;
  lastCycleAt: string | null;
  lastCycleDurationMs: number | null;
  lastCycleReplica: string | null;
  /** Age of the cluster's last cycle (any replica), in database time; null before the first one. */
  lastCycleAgeMs: number | null;
  /** The replica that answered (this process), to tell whether it or another one ran the last cycle. */
  replicaId: string;
  presets: PresetStatus[];
}

export interface PlanResponse {
  paused: boolean;
  presets: ({
    presetId: string;
    state: ReconciliationState;
    actions: ReconciliationAction[];
  } & PresetCapFields)[];
}

export interface PresetPrebuild {
  id: string;
  name: string;
  createdAt: string;
  transition: 'start' | 'stop' | 'delete';
  jobStatus: string;
  ready: boolean;
  expired: boolean;
}
