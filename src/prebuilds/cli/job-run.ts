import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiError, reasonOf } from './api-client.js';
import { type DaemonJob, jobEnvironment } from './job-env.js';
import { type LogLine, LogShipper, MAX_LINE_LENGTH } from './log-shipper.js';
import type { JobOutcome, ProvisionerApi } from './provisioner-api.js';

/** How a job ended for this daemon. */
export type JobEnd = 'succeeded' | 'failed' | 'canceled' | 'released' | 'lost' | 'abandoned';

export interface JobRunSettings {
  api: ProvisionerApi;
  /** A shell command line, run once per job. */
  command: string;
  /** The daemon's environment, the base of the command's. */
  env: NodeJS.ProcessEnv;
  /** One line to the daemon's log. */
  log(event: string, fields: Record<string, unknown>): void;
  /** The key was refused (401/403): the daemon stops. */
  onRefused(error: ApiError): void;
  /** Output lines kept for the error of a failed build. */
  tailLines?: number;
  logFlushMs?: number;
  logBatchLines?: number;
}

/** A command still running this long after SIGTERM gets SIGKILL. */
const KILL_AFTER_MS = 2_000;

function isLeaseGone(error: unknown): boolean {
  return error instanceof ApiError && (error.code === 'LEASE_LOST' || error.status === 404);
}

function isRefused(error: unknown): error is ApiError {
  return error instanceof ApiError && (error.status === 401 || error.status === 403);
}

function describe(error: unknown): string {
  return error instanceof ApiError ? `${error.code}: ${error.message}` : reasonOf(error);
}

/**
 * One job on one worker: runs the command with the job in its environment, ships its output as the build's log,
 * renews the lease every `heartbeatMs`, and reports the exit (0: succeeded; anything else: failed with the last
 * lines). A lost lease or a cancel kills the command. `abort()` (the shutdown grace ran out) kills it and gives
 * the job back.
 */
export class JobRun {
  readonly done: Promise<JobEnd>;
  private child: ChildProcess | null = null;
  private exited = false;
  private leaseLost = false;
  private canceled = false;
  private aborted = false;
  private readonly tail: string[] = [];
  private readonly shipper: LogShipper;

  constructor(
    readonly job: DaemonJob,
    private readonly workerId: string,
    private readonly settings: JobRunSettings,
  ) {
    this.shipper = new LogShipper({
      flushMs: settings.logFlushMs ?? 200,
      batchLines: settings.logBatchLines ?? 100,
      send: async (lines) => {
        try {
          await settings.api.appendLogs(job.jobId, workerId, lines);
        } catch (error) {
          this.onCallFailed('logs', error);
          throw error;
        }
      },
    });
    this.done = this.run();
  }

  /** The shutdown grace ran out: kill the command and give the job back to the queue. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.kill();
  }

  private async run(): Promise<JobEnd> {
    const { job, settings } = this;
    const started = performance.now();
    settings.log('job_started', {
      jobId: job.jobId,
      workerId: this.workerId,
      transition: job.transition,
      workspaceId: job.workspaceId,
      attempt: job.attempt,
    });
    let beating = false;
    const heartbeat = setInterval(
      () => {
        if (beating || this.leaseLost) return;
        beating = true;
        settings.api
          .heartbeat(job.jobId, this.workerId)
          .then((renewal) => {
            if (renewal.canceled && !this.canceled) {
              this.canceled = true;
              settings.log('job_canceled', { jobId: job.jobId, workerId: this.workerId });
              this.kill();
            }
          })
          .catch((error: unknown) => this.onCallFailed('heartbeat', error))
          .finally(() => (beating = false));
      },
      Math.max(job.heartbeatMs, 50),
    );
    let end: JobEnd;
    let exit: { code: number | null; signal: NodeJS.Signals | null; spawnError?: string };
    try {
      exit = await this.execute();
      end = await this.report(exit);
    } finally {
      clearInterval(heartbeat);
      this.shipper.stop();
    }
    settings.log('job_finished', {
      jobId: job.jobId,
      workerId: this.workerId,
      outcome: end,
      exitCode: exit.code,
      ...(exit.signal ? { signal: exit.signal } : {}),
      ms: Math.round(performance.now() - started),
    });
    return end;
  }

  /** Runs the command to its end, shipping its output. */
  private execute(): Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: string }> {
    return new Promise((resolve) => {
      const child = spawn(this.settings.command, {
        shell: true,
        // Its own process group, so that a kill reaches what the command started too.
        detached: true,
        env: jobEnvironment(this.job, this.settings.env),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child = child;
      const streams: Promise<void>[] = [];
      for (const [name, stream] of [
        ['stdout', child.stdout],
        ['stderr', child.stderr],
      ] as const) {
        if (!stream) continue;
        const lines = createInterface({ input: stream, crlfDelay: Infinity });
        lines.on('line', (text) => this.onLine({ stream: name, text }));
        streams.push(new Promise((closed) => lines.once('close', () => closed())));
      }
      let spawnError: string | undefined;
      child.once('error', (error) => {
        spawnError = error.message;
        this.exited = true;
        resolve({ code: null, signal: null, spawnError });
      });
      child.once('exit', (code, signal) => {
        this.exited = true;
        // The rest of its output, unless something it left running holds the pipes open.
        void Promise.race([Promise.all(streams), delay(1_000)]).then(() => resolve({ code, signal }));
      });
    });
  }

  private onLine(line: LogLine): void {
    this.tail.push(line.text);
    if (this.tail.length > (this.settings.tailLines ?? 20)) this.tail.shift();
    this.shipper.push(line);
  }

  /** Tells the API how the job ended (or gives it back); the end as this daemon sees it. */
  private async report(exit: { code: number | null; signal: NodeJS.Signals | null; spawnError?: string }) {
    const { job } = this;
    if (this.leaseLost) return 'lost';
    await this.shipper.drain();
    if (this.leaseLost) return 'lost';
    if (this.aborted && !this.canceled) {
      try {
        const released = await this.settings.api.release(job.jobId, this.workerId);
        return released.outcome === 'canceled' ? 'canceled' : 'released';
      } catch (error) {
        this.onCallFailed('release', error);
        // Its lease expires and the control plane puts it back in the queue.
        return this.leaseLost ? 'lost' : 'abandoned';
      }
    }
    let outcome: JobOutcome;
    if (this.canceled) {
      outcome = { status: 'failed', error: 'canceled: the control plane canceled the job' };
    } else if (exit.code === 0) {
      outcome = { status: 'succeeded', ...(job.transition === 'start' ? { agentLifecycle: 'ready' } : {}) };
    } else {
      outcome = { status: 'failed', error: this.failureText(exit) };
    }
    for (let backoffMs = 250; ; backoffMs = Math.min(backoffMs * 2, 5_000)) {
      try {
        const answer = await this.settings.api.complete(job.jobId, this.workerId, outcome);
        return answer.status === 'canceled' ? 'canceled' : outcome.status;
      } catch (error) {
        this.onCallFailed('complete', error);
        // Not recorded: another worker has (or will have) the job; or the daemon gives up on shutdown.
        if (this.leaseLost || isRefused(error) || this.aborted) return this.leaseLost ? 'lost' : 'abandoned';
        if (error instanceof ApiError && error.status < 500) return 'abandoned';
        await delay(backoffMs);
      }
    }
  }

  private failureText(exit: { code: number | null; signal: NodeJS.Signals | null; spawnError?: string }) {
    const why = exit.spawnError
      ? `the command could not start: ${exit.spawnError}`
      : exit.signal
        ? `the command was killed by ${exit.signal}`
        : `the command exited with code ${exit.code}`;
    const text = [why, ...this.tail].join('\n');
    // The API takes at most MAX_LINE_LENGTH characters; the end of the output says most.
    return text.length > MAX_LINE_LENGTH
      ? `${why}\n…${text.slice(-(MAX_LINE_LENGTH - why.length - 2))}`
      : text;
  }

  /** A call about the job failed: a lost lease stops the build, a refused key the daemon; anything else is logged. */
  private onCallFailed(call: string, error: unknown): void {
    if (isLeaseGone(error)) {
      if (!this.leaseLost) {
        this.leaseLost = true;
        this.settings.log('job_lease_lost', { jobId: this.job.jobId, workerId: this.workerId, call });
        this.shipper.stop();
        this.kill();
      }
      return;
    }
    if (isRefused(error)) {
      this.settings.onRefused(error);
      this.kill();
      return;
    }
    this.settings.log('call_failed', {
      call,
      jobId: this.job.jobId,
      workerId: this.workerId,
      error: describe(error),
    });
  }

  /** SIGTERM to the command's process group, SIGKILL if it is still there a little later. */
  private kill(): void {
    const child = this.child;
    if (!child?.pid || this.exited) return;
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, name);
      } catch {
        // Already gone.
      }
    };
    signal('SIGTERM');
    setTimeout(() => {
      if (!this.exited) signal('SIGKILL');
    }, KILL_AFTER_MS).unref();
  }
}
