import { Inject, Injectable } from '@nestjs/common';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import {
  BuildLogRepository,
  type AppendResult,
  type LogLineInput,
} from '../database/build-log.repository.js';
import { ProvisionerKeyRepository } from '../database/provisioner-key.repository.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import { PrebuildsChannel } from '../pubsub/channels.js';
import { PrebuildsPubsub } from '../pubsub/prebuilds-pubsub.js';
import { ProvisionerJobError } from './provisioner-job.errors.js';
import { type JobTagFilter, ProvisionerJobRepository } from '../database/provisioner-job.repository.js';
import { ProvisionerJobService } from './provisioner-job.service.js';
import type {
  AcquiredJob,
  AgentLifecycleReport,
  JobCompletion,
  LeaseRenewal,
} from '../database/provisioner-job.types.js';
import type { AuthenticatedProvisionerKey } from './provisioner-key.service.js';
import { IS_PREBUILD_TAG } from './provisioner-tags.js';

/** The longest an acquire waits for a job (a daemon asking for more gets this). */
export const MAX_ACQUIRE_WAIT_MS = 30_000;
/** While waiting, the queue is looked at again this often even when no JobPosted message arrives. */
export const ACQUIRE_POLL_MS = 1_000;

/** What an acquire answers a daemon: the job, and how often to heartbeat to keep it. */
export interface AcquiredJobAnswer extends Omit<AcquiredJob, 'leaseExpiresAt'> {
  leaseExpiresAt: string;
  workerId: string;
  leaseMs: number;
  heartbeatMs: number;
}

export interface CompletionAnswer extends JobCompletion {
  jobId: string;
  agents: { id: string }[];
}

export interface HttpOutcome {
  status: 'succeeded' | 'failed';
  error?: string;
  agentLifecycle?: AgentLifecycleReport;
}

/**
 * The job API of external daemons, over ProvisionerJobService, for one provisioner key: a key sees only the jobs its
 * tags match (anything else is "not found"), and its workers are its own (the worker id recorded on a job is the
 * key's id and the daemon's worker id, so one key's daemons can never act on another key's leases).
 */
@Injectable()
export class ProvisionerApiService {
  constructor(
    private readonly jobs: ProvisionerJobService,
    private readonly jobRows: ProvisionerJobRepository,
    private readonly logs: BuildLogRepository,
    private readonly keys: ProvisionerKeyRepository,
    private readonly pubsub: PrebuildsPubsub,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {}

  /**
   * The oldest job the key may take (user jobs first), waiting up to `waitMs` (capped at MAX_ACQUIRE_WAIT_MS) for
   * one: woken by JobPosted, and looking again every ACQUIRE_POLL_MS anyway (a lost message only delays). Null at
   * the end of the window, or when `signal` says the daemon went away. The key is re-checked before every later
   * look, so a key revoked during the wait takes nothing more (401).
   */
  async acquire(
    key: AuthenticatedProvisionerKey,
    workerId: string,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<AcquiredJobAnswer | null> {
    const deadline = performance.now() + Math.min(Math.max(waitMs, 0), MAX_ACQUIRE_WAIT_MS);
    // Set by the subscription between two looks: a job posted while the last look ran is looked for at once.
    const woken: { posted: boolean; wake: (() => void) | null } = { posted: false, wake: null };
    const unsubscribe = this.pubsub.subscribe(PrebuildsChannel.JobPosted, () => {
      woken.posted = true;
      woken.wake?.();
    });
    try {
      for (let look = 0; ; look++) {
        // The guard has just checked the key; later looks check it again.
        if (look > 0 && !(await this.keys.isLive(key.id))) throw keyRefused();
        woken.posted = false;
        const job = await this.jobs.acquireNext(this.workerOf(key, workerId), filterOf(key));
        if (job) return this.answer(job, workerId);
        const remaining = deadline - performance.now();
        if (remaining <= 0 || signal?.aborted) return null;
        if (woken.posted) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(remaining, ACQUIRE_POLL_MS));
          function done() {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
          }
          woken.wake = done;
          signal?.addEventListener('abort', done, { once: true });
        });
        woken.wake = null;
        if (signal?.aborted) return null;
      }
    } finally {
      unsubscribe();
    }
  }

  async heartbeat(key: AuthenticatedProvisionerKey, jobId: string, workerId: string): Promise<LeaseRenewal> {
    await this.assertJobVisible(key, jobId);
    try {
      return await this.jobs.heartbeat(jobId, this.workerOf(key, workerId));
    } catch (error) {
      throw translate(error, jobId, workerId);
    }
  }

  /** Gives the job back (the daemon stops before finishing it): `requeued`, or `canceled` if it was canceled. */
  async release(
    key: AuthenticatedProvisionerKey,
    jobId: string,
    workerId: string,
  ): Promise<{ jobId: string; outcome: 'requeued' | 'canceled' }> {
    await this.assertJobVisible(key, jobId);
    try {
      return { jobId, outcome: await this.jobs.release(jobId, this.workerOf(key, workerId)) };
    } catch (error) {
      throw translate(error, jobId, workerId);
    }
  }

  async appendLogs(
    key: AuthenticatedProvisionerKey,
    jobId: string,
    workerId: string,
    lines: LogLineInput[],
  ): Promise<AppendResult> {
    await this.assertJobVisible(key, jobId);
    const result = await this.logs.append(jobId, this.workerOf(key, workerId), lines, {
      maxLines: this.options.buildLogMaxLines,
      maxBytes: this.options.buildLogMaxBytes,
    });
    if (result === 'not_found') throw jobNotFound(jobId);
    if (result === 'lease_lost') throw leaseLost(jobId, workerId);
    return result;
  }

  async complete(
    key: AuthenticatedProvisionerKey,
    jobId: string,
    workerId: string,
    outcome: HttpOutcome,
  ): Promise<CompletionAnswer> {
    await this.assertJobVisible(key, jobId);
    if (outcome.status === 'failed' && !outcome.error) {
      throw invalid('outcome.error is required when outcome.status is failed');
    }
    if (outcome.status === 'succeeded' && outcome.error !== undefined) {
      throw invalid('outcome.error is only for outcome.status failed');
    }
    let completion: JobCompletion;
    try {
      completion = await this.jobs.complete(jobId, this.workerOf(key, workerId), {
        ...(outcome.status === 'failed' ? { error: outcome.error } : {}),
        ...(outcome.agentLifecycle ? { agentLifecycle: outcome.agentLifecycle } : {}),
      });
    } catch (error) {
      throw translate(error, jobId, workerId);
    }
    const agents = await this.jobs.agentsOfJob(jobId);
    return { jobId, ...completion, agents: agents.map((id) => ({ id })) };
  }

  async reportAgentLifecycle(
    key: AuthenticatedProvisionerKey,
    agentId: string,
    state: AgentLifecycleReport,
  ): Promise<{ agentId: string; lifecycleState: AgentLifecycleReport }> {
    const found = await this.jobRows.findAgentVisibility(agentId, filterOf(key));
    if (!found?.visible) throw agentNotFound(agentId);
    try {
      await this.jobs.reportAgentLifecycle(agentId, state);
    } catch (error) {
      throw translate(error, agentId, '');
    }
    return { agentId, lifecycleState: state };
  }

  /** A job the key's tags do not match answers exactly like a missing one. */
  private async assertJobVisible(key: AuthenticatedProvisionerKey, jobId: string): Promise<void> {
    const found = await this.jobRows.findJobVisibility(jobId, filterOf(key));
    if (!found?.visible) throw jobNotFound(jobId);
  }

  private workerOf(key: AuthenticatedProvisionerKey, workerId: string): string {
    return `${key.id}/${workerId}`;
  }

  private answer(job: AcquiredJob, workerId: string): AcquiredJobAnswer {
    return {
      ...job,
      leaseExpiresAt: new Date(job.leaseExpiresAt).toISOString(),
      workerId,
      leaseMs: this.options.provisionerLeaseMs,
      heartbeatMs: this.options.provisionerHeartbeatMs,
    };
  }
}

function filterOf(key: AuthenticatedProvisionerKey): JobTagFilter {
  const { [IS_PREBUILD_TAG]: isPrebuild, ...tags } = key.tags;
  return { tags, prebuild: isPrebuild === undefined ? null : isPrebuild === 'true' };
}

function keyRefused(): PrebuildsException {
  return new PrebuildsException(
    PrebuildsErrorCode.ProvisionerKeyInvalid,
    'header Prebuilds-Provisioner-Key: the provisioner key was revoked',
  );
}

function invalid(message: string): PrebuildsException {
  return new PrebuildsException(PrebuildsErrorCode.ValidationFailed, message);
}

function jobNotFound(jobId: string): PrebuildsException {
  return new PrebuildsException(PrebuildsErrorCode.JobNotFound, `provisioner job ${jobId} not found`);
}

function agentNotFound(agentId: string): PrebuildsException {
  return new PrebuildsException(PrebuildsErrorCode.AgentNotFound, `workspace agent ${agentId} not found`);
}

function leaseLost(jobId: string, workerId: string): PrebuildsException {
  return new PrebuildsException(
    PrebuildsErrorCode.LeaseLost,
    `worker ${workerId} no longer holds the lease of provisioner job ${jobId}; drop the job, its result is not recorded`,
  );
}

/** The job service's stable codes as HTTP errors; anything else is left to the filter (a 500 or a 503). */
function translate(error: unknown, id: string, workerId: string): unknown {
  if (!(error instanceof ProvisionerJobError)) return error;
  switch (error.code) {
    case 'job_not_found':
      return jobNotFound(id);
    case 'agent_not_found':
      return agentNotFound(id);
    case 'lease_lost':
    case 'job_not_running':
      return leaseLost(id, workerId);
    case 'job_already_completed':
      return new PrebuildsException(
        PrebuildsErrorCode.JobAlreadyCompleted,
        `provisioner job ${id} already ended with another outcome`,
      );
    case 'invalid_lifecycle_state':
      return invalid(`state: ${error.message}`);
    default:
      return unreachable(error.code);
  }
}

function unreachable(code: never): never {
  throw new Error(`unhandled provisioner job error ${String(code)}`);
}
