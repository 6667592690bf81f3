import type { ClaimLatency } from '../claim/claim-observer.js';
import type { CapName } from '../state/create-caps.js';
import type { DemandWindow, WindowCounts } from '../state/demand.js';
import type { ExpressionOutcome } from '../state/desired-target.js';
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
  /** 'base', 'expression' (its target expression decided), or the cron of the schedule that gives the count now. */
  desiredSource: string;
  /** DESIGN.md rule 12: the expression, its raw value (before clamping) or its error; null without one or inactive. */
  expression: ExpressionOutcome | null;
  /** Claims served by a prebuild, misses, and claims / (claims + misses) (null: nobody asked) per window. */
  demand: PresetDemand;
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
  /** Claim latency percentiles (seconds) from this replica's histogram since it started; null when not measured. */
  claimLatencySeconds: ClaimLatency | null;
  presets: PresetStatus[];
}

export interface PresetDemand {
  claims: WindowCounts;
  misses: WindowCounts;
  hitRate: Record<DemandWindow, number | null>;
}

export interface PlanResponse {
  paused: boolean;
  presets: ({
    presetId: string;
    state: ReconciliationState;
    actions: ReconciliationAction[];
    desiredSource: string;
    expression: ExpressionOutcome | null;
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
