import type { PrebuildStatus, ReconciliationAction, ReconciliationState } from '../state/types.js';

export interface PresetStatus extends ReconciliationState {
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
  /** The replica that answered (this process), to tell whether it or another one ran the last cycle. */
  replicaId: string;
  presets: PresetStatus[];
}

export interface PlanResponse {
  paused: boolean;
  presets: { presetId: string; state: ReconciliationState; actions: ReconciliationAction[] }[];
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
