import { Inject, Injectable, Optional } from '@nestjs/common';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { InjectPrebuildsDataSource } from '../database/prebuilds-data-source.js';
import type { DataSource } from 'typeorm';
import { Clock } from '../clock/clock.js';
import { type JobPostedMessage, PrebuildsChannel, type TemplateMessage } from '../pubsub/channels.js';
import { PrebuildsPubsub } from '../pubsub/prebuilds-pubsub.js';
import { ProvisionerJobError } from './provisioner-job.errors.js';
import { JobObserver } from './job-observer.js';
import { type JobTagFilter, ProvisionerJobRepository } from '../database/provisioner-job.repository.js';
import {
  PREBUILDS_OPTIONS,
  resolvePrebuildsOptions,
  type ResolvedPrebuildsOptions,
} from '../prebuilds.options.js';
import {
  AGENT_LIFECYCLE_REPORTS,
  type AcquiredJob,
  type AgentLifecycleReport,
  type JobCompletion,
  type JobOutcome,
  type JobStatus,
  type LeaseRenewal,
} from '../database/provisioner-job.types.js';

/**
 * The API provisioner daemons use (the host's simulated one included): take the oldest pending job, report how it
 * ended, report agent lifecycle. Any number of daemons on any number of replicas may call it at once; a job is
 * handed to exactly one of them.
 */
@Injectable()
export class ProvisionerJobService {
  private readonly logger = new PrebuildsLogger(ProvisionerJobService.name);
  private readonly observer: JobObserver;

  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly jobs: ProvisionerJobRepository,
    private readonly clock: Clock,
    private readonly pubsub: PrebuildsPubsub,
    @Optional() observer?: JobObserver,
    @Optional() @Inject(PREBUILDS_OPTIONS) options?: ResolvedPrebuildsOptions,
  ) {
    this.options = options ?? resolvePrebuildsOptions();
    this.observer = observer ?? new JobObserver();
  }

  private readonly options: ResolvedPrebuildsOptions;

  /** The lease a worker gets and the heartbeat period a daemon should keep (`provisionerLeaseMs`, …HeartbeatMs). */
  get leaseSettings(): { leaseMs: number; heartbeatMs: number; maxAttempts: number } {
    return {
      leaseMs: this.options.provisionerLeaseMs,
      heartbeatMs: this.options.provisionerHeartbeatMs,
      maxAttempts: this.options.provisionerMaxAttempts,
    };
  }

  /**
   * Fails every job whose holder took it more than `timeoutMs` ago (database time) as `timeout`, an infrastructure
   * failure: reported, but counted for neither backoff nor the hard limit. Returns how many.
   */
  async failStaleJobs(timeoutMs: number): Promise<number> {
    const failed = await this.jobs.failStaleJobs(timeoutMs, this.clock.now());
    for (const job of failed) {
      this.logger.warn({
        msg: 'stale job failed',
        event: 'job_timed_out',
        jobId: job.jobId,
        templateId: job.templateId,
      });
      this.observer.recordJobFailure('timeout');
      await this.pubsub
        .publish(PrebuildsChannel.JobCompleted, { templateId: job.templateId, presetId: job.presetId })
        .catch(() => undefined);
    }
    return failed.length;
  }

  /**
   * Recovers jobs whose lease expired (database time): back to pending with one more attempt, or failed as
   * `provisioner_lost` once `provisionerMaxAttempts` leases were lost. Safe on every replica at once. Returns how many.
   */
  async recoverExpiredLeases(): Promise<number> {
    const swept = await this.jobs.sweepExpiredLeases(this.options.provisionerMaxAttempts, this.clock.now());
    for (const job of swept) {
      this.logger.warn({
        msg:
          job.outcome === 'requeued'
            ? 'job lease expired; job back in the queue'
            : 'job lease expired too often; job failed',
        event: job.outcome === 'requeued' ? 'job_lease_expired' : 'job_provisioner_lost',
        jobId: job.jobId,
        templateId: job.templateId,
        outcome: job.outcome,
      });
      if (job.outcome !== 'requeued') this.observer.recordJobFailure(job.outcome);
      // Back in the queue: provisioners wake up for it. Ended: the reconciler looks at its template again.
      const published =
        job.outcome === 'requeued'
          ? this.pubsub.publish(PrebuildsChannel.JobPosted, { jobId: job.jobId } satisfies JobPostedMessage)
          : this.pubsub.publish(PrebuildsChannel.JobCompleted, {
              templateId: job.templateId,
              presetId: job.presetId,
            } satisfies TemplateMessage);
      await published.catch(() => undefined);
    }
    return swept.length;
  }

  /**
   * Renews `workerId`'s lease on a running job to `now()` + `provisionerLeaseMs` (database time). Throws
   * ProvisionerJobError `lease_lost` when the worker no longer holds it (expired and re-queued, another worker's, or
   * ended), `job_not_found` for an unknown job. `canceled` says the job was canceled while it ran.
   */
  async heartbeat(jobId: string, workerId: string): Promise<LeaseRenewal> {
    const renewed = await this.jobs.renewLease(jobId, workerId, this.options.provisionerLeaseMs);
    if (renewed) return renewed;
    const holder = await this.jobs.findHolder(jobId);
    if (!holder) throw new ProvisionerJobError('job_not_found', `provisioner job ${jobId} does not exist`);
    throw new ProvisionerJobError(
      'lease_lost',
      `worker ${workerId} no longer holds the lease of provisioner job ${jobId}` +
        (holder.completedAt
          ? ' (the job has ended)'
          : holder.workerId
            ? ''
            : ' (the job is back in the queue)'),
    );
  }

  /**
   * Gives a running job back (a daemon shutting down before it finished): pending again at once, for any worker,
   * without counting the lost attempt; a job canceled meanwhile ends canceled. Throws ProvisionerJobError
   * `lease_lost` when `workerId` does not hold it, `job_not_found` for an unknown job.
   */
  async release(jobId: string, workerId: string): Promise<'requeued' | 'canceled'> {
    const released = await this.jobs.releaseLease(jobId, workerId, this.clock.now());
    if (!released) {
      const holder = await this.jobs.findHolder(jobId);
      if (!holder) throw new ProvisionerJobError('job_not_found', `provisioner job ${jobId} does not exist`);
      throw new ProvisionerJobError(
        'lease_lost',
        `worker ${workerId} no longer holds the lease of provisioner job ${jobId}`,
      );
    }
    this.logger.log({
      msg: 'job released by its worker',
      event: 'job_released',
      jobId,
      workerId,
      outcome: released.outcome,
      templateId: released.templateId,
    });
    const channel =
      released.outcome === 'requeued' ? PrebuildsChannel.JobPosted : PrebuildsChannel.JobCompleted;
    await this.pubsub
      .publish(channel, { templateId: released.templateId, presetId: released.presetId })
      .catch(() => undefined);
    return released.outcome;
  }

  /**
   * The oldest pending job (user jobs first), now owned by `workerId` and running; null when none is waiting. With
   * `filter` (a provisioner key's tags), only a job the filter matches.
   */
  async acquireNext(workerId: string, filter?: JobTagFilter): Promise<AcquiredJob | null> {
    const job = await this.jobs.acquireOldestPending(
      workerId,
      this.clock.now(),
      this.options.provisionerLeaseMs,
      filter,
    );
    if (job) {
      this.logger.debug({
        msg: 'job acquired',
        event: 'job_acquired',
        jobId: job.jobId,
        workerId,
        transition: job.transition,
        templateId: job.templateId,
        attempt: job.attempt,
      });
    }
    return job;
  }

  /**
   * Ends a running job: succeeded without `outcome.error`, failed with it. A successful start brings up one agent
   * (lifecycle `created`); a successful delete marks the workspace deleted. `workerId` is the worker that acquired
   * it: a worker that no longer holds the lease (it expired and the job was re-queued, taken by another worker or
   * ended) is refused with ProvisionerJobError `lease_lost`, and its result is not recorded. The holder repeating the
   * same completion is a no-op (a retry after a lost answer). Without `workerId` (the older form) a completion is
   * accepted only on a job's first lease. Throws ProvisionerJobError for a job that is unknown, not acquired yet, or
   * already completed otherwise. The reconciler is told after commit; a lost message only delays it to its next
   * interval.
   */
  async complete(jobId: string, workerId: string, outcome?: JobOutcome): Promise<JobCompletion>;
  /** @deprecated pass the workerId: `complete(jobId, workerId, outcome)`. */
  async complete(jobId: string, outcome?: JobOutcome): Promise<JobCompletion>;
  async complete(
    jobId: string,
    workerOrOutcome?: string | JobOutcome,
    maybeOutcome?: JobOutcome,
  ): Promise<JobCompletion> {
    const workerId = typeof workerOrOutcome === 'string' ? workerOrOutcome : null;
    const outcome = (typeof workerOrOutcome === 'string' ? maybeOutcome : workerOrOutcome) ?? {};
    const now = this.clock.now();
    // An empty error string still means the daemon reported a failure; keep the record readable.
    const error =
      outcome.error === undefined || outcome.error === null ? null : outcome.error || 'unknown error';
    const leaseLost = () =>
      new ProvisionerJobError(
        'lease_lost',
        `worker ${workerId ?? '(unnamed)'} no longer holds the lease of provisioner job ${jobId}; its result is not recorded`,
      );
    const done = await this.dataSource.transaction(async (manager) => {
      const job = await this.jobs.lockJob(manager, jobId);
      if (!job) throw new ProvisionerJobError('job_not_found', `provisioner job ${jobId} does not exist`);
      if (job.completedAt) {
        // The holder repeating its own completion (its first answer was lost): nothing more to do.
        if (workerId !== null && job.workerId === workerId && (job.error === null) === (error === null)) {
          const repeated: JobStatus = job.canceledAt
            ? 'canceled'
            : job.error === null
              ? 'succeeded'
              : 'failed';
          return { repeated };
        }
        if (workerId !== null && job.workerId !== workerId) throw leaseLost();
        throw new ProvisionerJobError(
          'job_already_completed',
          `provisioner job ${jobId} is already completed`,
        );
      }
      if (!job.startedAt) {
        if (workerId !== null || job.attempts > 0) throw leaseLost();
        throw new ProvisionerJobError('job_not_running', `provisioner job ${jobId} has not been acquired`);
      }
      if (workerId !== null ? job.workerId !== workerId : job.attempts > 1) throw leaseLost();
      if (outcome.agentLifecycle !== undefined && !AGENT_LIFECYCLE_REPORTS.includes(outcome.agentLifecycle)) {
        throw new ProvisionerJobError(
          'invalid_lifecycle_state',
          `'${String(outcome.agentLifecycle)}' is not an agent lifecycle report`,
        );
      }
      const status = await this.jobs.markCompleted(manager, jobId, error, now);
      if (status === 'succeeded' && job.transition === 'start') {
        const agentId = await this.jobs.insertAgent(manager, jobId, now);
        if (outcome.agentLifecycle)
          await this.jobs.setAgentLifecycle(manager, agentId, outcome.agentLifecycle, now);
      }
      if (status === 'succeeded' && job.transition === 'delete') {
        await this.jobs.markWorkspaceDeleted(manager, job.workspaceId, now);
      }
      return { ...job, status };
    });
    if (!('transition' in done)) {
      this.logger.debug({ msg: 'job completed again; no-op', event: 'job_completed_again', jobId, workerId });
      return { status: done.repeated, repeated: true };
    }
    if (done.status === 'failed') this.observer.recordJobFailure('build');
    if (done.status === 'failed' && done.isPrebuild && done.transition === 'start' && done.presetId) {
      this.observer.recordPrebuildFailed(done.presetId);
    }
    this.logger.debug({
      msg: 'job completed',
      event: 'job_completed',
      jobId,
      status: done.status,
      transition: done.transition,
      workspaceId: done.workspaceId,
      templateId: done.templateId,
      presetId: done.presetId,
      ...(error ? { error } : {}),
    });
    const message: TemplateMessage = { templateId: done.templateId, presetId: done.presetId };
    try {
      await this.pubsub.publish(PrebuildsChannel.JobCompleted, message);
    } catch (publishError) {
      this.logger.warn({
        msg: 'job completion post failed',
        event: 'job_completed_post_failed',
        jobId,
        templateId: done.templateId,
        error: (publishError as Error).message,
      });
    }
    return { status: done.status, repeated: false };
  }

  /** Records an agent's lifecycle; `ready` makes a running prebuild eligible for claims once all its agents are. */
  async reportAgentLifecycle(agentId: string, state: AgentLifecycleReport): Promise<void> {
    // Daemons may be plain JavaScript or sit behind an API: check the value rather than trust the type.
    if (!AGENT_LIFECYCLE_REPORTS.includes(state)) {
      throw new ProvisionerJobError(
        'invalid_lifecycle_state',
        `'${String(state)}' is not an agent lifecycle report`,
      );
    }
    const found = await this.jobs.setAgentLifecycleAlone(agentId, state, this.clock.now());
    if (!found) throw new ProvisionerJobError('agent_not_found', `workspace agent ${agentId} does not exist`);
  }

  /** The agents a job brought up (one per successful start). */
  async agentsOfJob(jobId: string): Promise<string[]> {
    return this.jobs.findAgentIdsOfJob(jobId);
  }
}
