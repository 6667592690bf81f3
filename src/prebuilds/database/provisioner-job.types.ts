import type { Transition } from '../state/types.js';

/** What a provisioner daemon needs to run one build: the job it now owns and the build behind it. */
export interface AcquiredJob {
  jobId: string;
  buildId: string;
  workspaceId: string;
  templateId: string;
  templateVersionId: string;
  presetId: string | null;
  transition: Transition;
  buildNumber: number;
  parameters: Record<string, string>;
  /** Which acquisition of the job this is (1 the first time; more after a lost lease put it back in the queue). */
  attempt: number;
  /** When the worker's lease ends (database time) unless a heartbeat renews it. */
  leaseExpiresAt: Date;
  /** The job's tags: its template's provisioner tags, and `is_prebuild: "true"` on a prebuild's own builds. */
  tags: Record<string, string>;
}

/** What a heartbeat answers: the renewed lease, and whether the job was canceled meanwhile (stop and report it). */
export interface LeaseRenewal {
  leaseExpiresAt: Date;
  canceled: boolean;
}

/**
 * Why a job failed: `build` when a provisioner reported the failure (the only kind that feeds backoff and the hard
 * limit); the others are infrastructure failures.
 */
export type JobFailureKind = 'build' | 'provisioner_lost' | 'timeout' | 'canceled';

/** How a job ended: with `error` it failed (the text is kept on the job), without it it succeeded. */
export interface JobOutcome {
  error?: string;
  /**
   * The lifecycle the agents a successful start brings up are left in (default `created`), in the completion's own
   * transaction; later changes go through reportAgentLifecycle.
   */
  agentLifecycle?: AgentLifecycleReport;
}

/** How a completion ended: the job's status, and whether it only repeated a completion already recorded. */
export interface JobCompletion {
  status: JobStatus;
  repeated: boolean;
}

/** The lifecycle states an agent reports; `created` is where the job's completion leaves it. */
export type AgentLifecycleReport = 'starting' | 'ready' | 'start_error';

export const AGENT_LIFECYCLE_REPORTS: readonly AgentLifecycleReport[] = ['starting', 'ready', 'start_error'];

/** A job's status, derived by PostgreSQL from its timestamps and error (the stored generated column job_status). */
export type JobStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceling' | 'canceled';
