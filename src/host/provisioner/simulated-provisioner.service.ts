import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { PrebuildsChannel } from 'nest-prebuilds';
import { PrebuildsPubsub } from 'nest-prebuilds';
import { ProvisionerJobError, ProvisionerJobService } from 'nest-prebuilds';
import type { AcquiredJob } from 'nest-prebuilds';
import type { HostConfig } from '../config/host-config.js';
import { HOST_CONFIG } from '../config/host-config.token.js';

/** The seams tests turn: where randomness and build time come from, and how long idling and shutdown may take. */
export interface SimulatedProvisionerSettings {
  /** A number in [0, 1); a build fails when it is below the failure rate. */
  random(): number;
  /** Stands in for the build itself. */
  sleep(ms: number): Promise<void>;
  /** How long an idle worker waits for a JobPosted message before it looks for work anyway. */
  idlePollMs: number;
  /** How long shutdown waits for builds in flight. */
  shutdownTimeoutMs: number;
  /**
   * How long a report (completion, agent lifecycle) is retried after transient database errors, with backoff from
   * 250 ms doubling to 5 s, before the build is given up (its lease then expires and the job is re-queued).
   */
  reportRetryMs: number;
}

/** Optional provider of Partial<SimulatedProvisionerSettings>; anything missing takes the default. */
export const SIMULATED_PROVISIONER_SETTINGS = Symbol('SIMULATED_PROVISIONER_SETTINGS');

const DEFAULT_SETTINGS: SimulatedProvisionerSettings = {
  random: Math.random,
  sleep: (ms) => delay(ms),
  idlePollMs: 1_000,
  shutdownTimeoutMs: 10_000,
  reportRetryMs: 60_000,
};

export const SIMULATED_FAILURE = 'simulated failure';

/**
 * A provisioner daemon inside the host app, so that the whole loop runs without real infrastructure. It uses only
 * the module's public job API, the same one a real daemon would: acquire, wait `buildMs` while heartbeating the
 * job's lease (every `provisionerHeartbeatMs`), complete (failing with probability `failureRate`), then bring a
 * started workspace's agents to `ready`. Reports are retried with backoff after transient database errors, so an
 * outage shorter than `reportRetryMs` loses no build; a lost lease (LEASE_LOST) drops the build, whose job another
 * worker builds again. Workers sleep until a JobPosted
 * message or a 1 s poll, whichever comes first, so a lost message costs at most a second.
 */
@Injectable()
export class SimulatedProvisionerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SimulatedProvisionerService.name);
  private readonly settings: SimulatedProvisionerSettings;
  private readonly options: HostConfig['provisioner'];
  private running = false;
  private workers: Promise<void>[] | null = null;
  private stopping: Promise<void> | null = null;
  /** Set when shutdown stopped waiting for the builds in flight: their reports are no longer retried. */
  private abandoned = false;
  /** The lease renewals of the builds in flight, stopped with them (or when shutdown abandons them). */
  private readonly heartbeats = new Set<NodeJS.Timeout>();
  private unsubscribe: (() => void) | null = null;
  private readonly wakers = new Set<() => void>();
  private readonly inFlight = new Set<string>();

  constructor(
    @Inject(HOST_CONFIG) config: HostConfig,
    private readonly jobs: ProvisionerJobService,
    private readonly pubsub: PrebuildsPubsub,
    @Optional() @Inject(SIMULATED_PROVISIONER_SETTINGS) settings: Partial<SimulatedProvisionerSettings> = {},
  ) {
    this.options = config.provisioner;
    this.settings = { ...DEFAULT_SETTINGS, ...settings };
  }

  onApplicationBootstrap(): void {
    if (this.options.enabled) this.start();
  }

  // Before shutdown rather than on it: builds in flight still need the database, which closes on shutdown.
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Starts the workers. Does nothing when already started or stopped. */
  start(): void {
    if (this.workers || this.stopping) return;
    this.running = true;
    this.unsubscribe = this.pubsub.subscribe(PrebuildsChannel.JobPosted, () => this.wakeAll());
    const prefix = `sim-${hostname()}-${process.pid}`;
    this.workers = Array.from({ length: this.options.concurrency }, (_, n) => this.work(`${prefix}-${n}`));
    this.logger.log({
      msg: 'simulated provisioner started',
      event: 'simulated_provisioner_started',
      concurrency: this.options.concurrency,
      buildMs: this.options.buildMs,
      failureRate: this.options.failureRate,
    });
  }

  /** Stops taking jobs and waits (bounded) for the builds in flight to complete. Safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    if (!this.workers) return;
    this.running = false;
    this.unsubscribe?.();
    this.wakeAll();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.settings.shutdownTimeoutMs);
    });
    const finished = Promise.all(this.workers).then(() => false);
    const expired = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    this.abandoned = expired;
    if (expired) {
      for (const heartbeat of this.heartbeats) clearInterval(heartbeat);
      this.heartbeats.clear();
      // The database closes next: retrying their reports would only keep the process alive (`abandoned`).
      // Their leases expire and the lease sweep puts their jobs back in the queue.
      this.logger.warn({
        msg: 'simulated provisioner stopped with builds in flight',
        event: 'simulated_provisioner_stop_timeout',
        jobIds: [...this.inFlight],
      });
    } else {
      this.logger.log({ msg: 'simulated provisioner stopped', event: 'simulated_provisioner_stopped' });
    }
  }

  private async work(workerId: string): Promise<void> {
    while (this.running) {
      let job: AcquiredJob | null = null;
      try {
        job = await this.jobs.acquireNext(workerId);
      } catch (error) {
        this.logger.warn({
          msg: 'job acquisition failed',
          event: 'simulated_acquire_failed',
          workerId,
          error: (error as Error).message,
        });
      }
      // A job taken while stopping is still built: nothing else would ever complete it.
      if (job) await this.build(job, workerId);
      else await this.idle();
    }
  }

  private async build(job: AcquiredJob, workerId: string): Promise<void> {
    this.inFlight.add(job.jobId);
    let leaseLost = false;
    let beating = false;
    // Heartbeats renew the lease while the build runs and while its reports are retried; a failed one is simply
    // tried again at the next beat (the lease outlives a few missed beats).
    const heartbeat = setInterval(() => {
      if (beating || leaseLost) return;
      beating = true;
      this.jobs
        .heartbeat(job.jobId, workerId)
        .catch((error: unknown) => {
          if (error instanceof ProvisionerJobError) leaseLost = true;
          this.logger.warn({
            msg: 'heartbeat failed',
            event: 'simulated_heartbeat_failed',
            workerId,
            jobId: job.jobId,
            error: (error as Error).message,
          });
        })
        .finally(() => (beating = false));
    }, this.jobs.leaseSettings.heartbeatMs);
    this.heartbeats.add(heartbeat);
    try {
      await this.settings.sleep(this.options.buildMs);
      if (leaseLost) throw new ProvisionerJobError('lease_lost', `lost the lease of job ${job.jobId}`);
      const failed = this.settings.random() < this.options.failureRate;
      await this.retried(() =>
        this.jobs.complete(job.jobId, workerId, failed ? { error: SIMULATED_FAILURE } : {}),
      );
      if (!failed && job.transition === 'start') {
        for (const agentId of await this.retried(() => this.jobs.agentsOfJob(job.jobId))) {
          await this.retried(() => this.jobs.reportAgentLifecycle(agentId, 'starting'));
          await this.retried(() => this.jobs.reportAgentLifecycle(agentId, 'ready'));
        }
      }
    } catch (error) {
      this.logger.warn({
        msg: 'simulated build could not be reported',
        event: 'simulated_build_report_failed',
        workerId,
        jobId: job.jobId,
        error: (error as Error).message,
      });
    } finally {
      clearInterval(heartbeat);
      this.heartbeats.delete(heartbeat);
      this.inFlight.delete(job.jobId);
    }
  }

  /**
   * Runs a report, retrying transient failures (the database down, read-only, out of connections) with backoff for
   * up to `reportRetryMs`. A ProvisionerJobError is an answer, not a fault, and is never retried; the same completion
   * repeated after a lost answer is a no-op for the module.
   */
  private async retried<T>(report: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.settings.reportRetryMs;
    for (let backoffMs = 250; ; backoffMs = Math.min(backoffMs * 2, 5_000)) {
      try {
        return await report();
      } catch (error) {
        if (error instanceof ProvisionerJobError || this.abandoned || Date.now() + backoffMs > deadline)
          throw error;
        this.logger.warn({
          msg: 'report failed; retrying',
          event: 'simulated_report_retry',
          retryInMs: backoffMs,
          error: (error as Error).message,
        });
        await delay(backoffMs);
      }
    }
  }

  /** Resolves on the next JobPosted message, on stop, or after the idle poll, whichever comes first. */
  private idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, this.settings.idlePollMs);
      this.wakers.add(wake);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }
}
