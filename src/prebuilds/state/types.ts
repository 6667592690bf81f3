/**
 * The state engine's contract: the rows one snapshot reads, and the state and actions it computes.
 * These shapes are part of the module's public API (DESIGN.md, "Stable API"); add fields, never rename.
 */
import type { DemandRow } from './demand.js';

export type Transition = 'start' | 'stop' | 'delete';
export type PrebuildStatus = 'healthy' | 'hard_limited' | 'validation_failed';

export interface PresetRow {
  presetId: string;
  presetName: string;
  templateId: string;
  templateName: string;
  templateVersionId: string;
  organizationId: string;
  usingActiveVersion: boolean;
  templateDeleted: boolean;
  templateDeprecated: boolean;
  /** NULL = this preset wants no prebuilds; read as 0. */
  desiredInstances: number | null;
  ttlSeconds: number | null;
  lastInvalidatedAt: Date | null;
  /** '' = none. */
  schedulingTimezone: string;
  prebuildStatus: PrebuildStatus;
  /** DESIGN.md rule 12: a CEL expression that sets the target instead (target-expression.ts); absent, null or '' = none. */
  desiredInstancesExpression?: string | null;
}

/** Schedules of one preset are evaluated in the order they appear in the snapshot. */
export interface PrebuildScheduleRow {
  presetId: string;
  cronExpression: string;
  desiredInstances: number;
}

export interface RunningPrebuildRow {
  workspaceId: string;
  presetId: string | null;
  templateId: string;
  templateVersionId: string;
  /** Every agent is `ready`. */
  ready: boolean;
  createdAt: Date;
}

export interface InProgressRow {
  presetId: string;
  templateId: string;
  templateVersionId: string;
  transition: Transition;
  count: number;
}

export interface PendingNonActiveRow {
  presetId: string;
  count: number;
}

export interface BackoffRow {
  presetId: string;
  numFailed: number;
  lastFailedAt: Date;
}

/**
 * Running prebuilds of one preset summed up instead of listed, as read at one `now`: `expired` by DESIGN.md rule 3,
 * `ready` those not expired whose agents are all ready. A preset may have both rows and counts; they add up. Where
 * rows matter (a counted prebuild would be deleted, or the preset has a TTL so that expiry moves with time),
 * PresetSnapshot.needsRunningRows says so and the reader replaces the counts with rows
 * (GlobalSnapshot.withRunningRows) before any action is chosen.
 */
export interface RunningCountRow {
  presetId: string;
  running: number;
  ready: number;
  expired: number;
}

export interface SnapshotInput {
  presets: PresetRow[];
  schedules: PrebuildScheduleRow[];
  running: RunningPrebuildRow[];
  /** Running prebuilds read as counts, beside `running`; absent = none. */
  runningCounts?: RunningCountRow[];
  inProgress: InProgressRow[];
  pendingNonActive: PendingNonActiveRow[];
  backoffs: BackoffRow[];
  hardLimitedPresetIds: string[];
  /** Claims and misses per preset in the windows of rule 12; absent = none anywhere. */
  demand?: DemandRow[];
}

export interface ReconciliationState {
  desired: number;
  /** Running prebuilds, expired ones included. */
  actual: number;
  eligible: number;
  extraneous: number;
  expired: number;
  starting: number;
  stopping: number;
  deleting: number;
}

export type ReconciliationAction =
  | { type: 'create'; count: number }
  | { type: 'delete'; workspaceIds: string[] }
  | { type: 'backoff'; until: Date }
  | { type: 'cancel_pending' };

/**
 * `'base'` when the desired count comes from the preset itself, `'expression'` when its target expression decided,
 * else the cron of the schedule that matched.
 */
export type DesiredSource = 'base' | 'expression' | (string & {});

/** Why a preset's creates are held back regardless of its counts. */
export type CreationBlock = 'hard_limited' | 'validation_failed';
