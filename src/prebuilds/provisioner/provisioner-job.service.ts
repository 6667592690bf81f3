import { Injectable, Optional } from '@nestjs/common';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { InjectPrebuildsDataSource } from '../database/prebuilds-data-source.js';
import type { DataSource } from 'typeorm';
import { PrebuildsMetricsService } from '../metrics/prebuilds-metrics.service.js';
import { Clock } from '../clock/clock.js';
import { PrebuildsChannel, type TemplateMessage } from '../pubsub/channels.js';
import { PrebuildsPubsub } from '../pubsub/prebuilds-pubsub.js';
import { ProvisionerJobError } from './provisioner-job.errors.js';
import { ProvisionerJobRepository } from './provisioner-job.repository.js';
import {
  AGENT_LIFECYCLE_REPORTS,
  type AcquiredJob,
  type AgentLifecycleReport,
  type JobOutcome,
} from './provisioner-job.types.js';

/**
 * The API provisioner daemons use (the host's simulated one included): take the oldest pending job, report how it
 * ended, report agent lifecycle. Any number of daemons on any number of replicas may call it at once; a job is
 * handed to exactly one of them.
 */
@Injectable()
export class ProvisionerJobService {
  private readonly logger = new PrebuildsLogger(ProvisionerJobService.name);

  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly jobs: ProvisionerJobRepository,
    private readonly clock: Clock,
    private readonly pubsub: PrebuildsPubsub,
    @Optional() private readonly metrics?: PrebuildsMetricsService,
  ) {}

  /**
   * Fails every job that has been running for longer than `timeoutMs` (its provisioner is gone), so that the
   * reconciler counts it as a failed build and replaces it. Returns how many.
   */
  async failStaleJobs(timeoutMs: number): Promise<number> {
    const now = this.clock.now();
    const failed = await this.jobs.failStaleJobs(
      this.dataSource.manager,
      new Date(now.getTime() - timeoutMs),
      now,
    );
    for (const job of failed) {
      this.logger.warn({
        msg: 'stale job failed',
        event: 'job_timed_out',
        jobId: job.jobId,
        templateId: job.templateId,
      });
      await this.pubsub
        .publish(PrebuildsChannel.JobCompleted, { templateId: job.templateId, presetId: job.presetId })
        .catch(() => undefined);
    }
    return failed.length;
  }

  /** The oldest pending job, now owned by `workerId` and running; null when none is waiting. */
  async acquireNext(workerId: string): Promise<AcquiredJob | null> {
    const job = await this.jobs.acquireOldestPending(this.dataSource.manager, workerId, this.clock.now());
    if (job) {
      this.logger.debug({
        msg: 'job acquired',
        event: 'job_acquired',
        jobId: job.jobId,
        workerId,
        transition: job.transition,
        templateId: job.templateId,
      });
    }
    return job;
  }

  /**
   * Ends a running job: succeeded without `outcome.error`, failed with it. A successful start brings up one agent
   * (lifecycle `created`); a successful delete marks the workspace deleted. Throws ProvisionerJobError for a job
   * that is unknown, not acquired yet, or already completed. The reconciler is told after commit; a lost message
   * only delays it to its next interval.
   */
  async complete(jobId: string, outcome: JobOutcome = {}): Promise<void> {
    const now = this.clock.now();
    // An empty error string still means the daemon reported a failure; keep the record readable.
    const error =
      outcome.error === undefined || outcome.error === null ? null : outcome.error || 'unknown error';
    const done = await this.dataSource.transaction(async (manager) => {
      const job = await this.jobs.lockJob(manager, jobId);
      if (!job) throw new ProvisionerJobError('job_not_found', `provisioner job ${jobId} does not exist`);
      if (job.completedAt) {
        throw new ProvisionerJobError(
          'job_already_completed',
          `provisioner job ${jobId} is already completed`,
        );
      }
      if (!job.startedAt) {
        throw new ProvisionerJobError('job_not_running', `provisioner job ${jobId} has not been acquired`);
      }
      const status = await this.jobs.markCompleted(manager, jobId, error, now);
      if (status === 'succeeded' && job.transition === 'start')
        await this.jobs.insertAgent(manager, jobId, now);
      if (status === 'succeeded' && job.transition === 'delete') {
        await this.jobs.markWorkspaceDeleted(manager, job.workspaceId, now);
      }
      return { ...job, status };
    });
    if (done.status === 'failed' && done.isPrebuild && done.transition === 'start' && done.presetId) {
      this.metrics?.recordFailed(this.metrics.labelsOf(done.presetId));
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
    const found = await this.jobs.setAgentLifecycle(
      this.dataSource.manager,
      agentId,
      state,
      this.clock.now(),
    );
    if (!found) throw new ProvisionerJobError('agent_not_found', `workspace agent ${agentId} does not exist`);
  }

  /** The agents a job brought up (one per successful start). */
  async agentsOfJob(jobId: string): Promise<string[]> {
    return this.jobs.findAgentIdsOfJob(this.dataSource.manager, jobId);
  }
}
