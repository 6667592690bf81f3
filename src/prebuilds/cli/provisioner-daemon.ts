import { setTimeout as delay } from 'node:timers/promises';
import { ApiError, reasonOf } from './api-client.js';
import { ExitCode } from './exit-codes.js';
import { JobRun } from './job-run.js';
import { ProvisionerApi } from './provisioner-api.js';

export interface DaemonOptions {
  url: string;
  key: string;
  concurrency: number;
  command: string;
  /** Worker n is `<workerId>:<n>`. */
  workerId: string;
  /** How long an acquire waits for a job (the server caps it at 30 s). */
  waitMs: number;
  /** After SIGTERM, how long running commands may take before they are killed and their jobs released. */
  shutdownGraceMs: number;
  /** What the operator says the key carries; informational (the key's own tags decide). */
  tags: Record<string, string>;
  env: NodeJS.ProcessEnv;
  /** Writes one line to the daemon's log (stderr). */
  write(line: string): void;
}

/** Failed acquires are retried after this, doubling up to the cap, reset by an answer. */
const BACKOFF_START_MS = 500;
const BACKOFF_CAP_MS = 10_000;

/** `key=value` fields, quoted when they hold spaces. */
function format(event: string, fields: Record<string, unknown>): string {
  const parts = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return `${key}=${/[\s"]/.test(text) ? JSON.stringify(text) : text}`;
    });
  return [new Date().toISOString(), event, ...parts].join(' ');
}

/**
 * The reference provisioner daemon: `concurrency` workers, each in a loop of long-polled acquires and one job at a
 * time. Network trouble is retried with capped backoff (one log line per failure); a refused key stops it (exit 4).
 * `shutdown()` stops acquiring, lets running commands finish within the grace, then kills them and releases their
 * jobs; `run()` then resolves with 0.
 */
export class ProvisionerDaemon {
  private readonly api: ProvisionerApi;
  private stopping = false;
  private refused: ApiError | null = null;
  private readonly stopped = new AbortController();
  private readonly runs = new Set<JobRun>();
  private graceTimer: NodeJS.Timeout | null = null;
  /** The grace ran out (or a second signal came): whatever still runs is killed and released. */
  private graceOver = false;

  constructor(private readonly options: DaemonOptions) {
    this.api = new ProvisionerApi(options.url, options.key);
  }

  log(event: string, fields: Record<string, unknown> = {}): void {
    this.options.write(format(event, fields));
  }

  async run(): Promise<ExitCode> {
    const { concurrency, workerId, command, tags, shutdownGraceMs } = this.options;
    this.log('provisioner_started', {
      url: this.api.url,
      workerId,
      concurrency,
      command,
      tags:
        Object.keys(tags).length > 0
          ? Object.entries(tags)
              .map(([k, v]) => `${k}=${v}`)
              .join(',')
          : undefined,
      shutdownGraceMs,
    });
    await Promise.all(Array.from({ length: concurrency }, (_, n) => this.work(`${workerId}:${n}`)));
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.refused) return ExitCode.Refused;
    this.log('provisioner_stopped');
    return ExitCode.Ok;
  }

  /** SIGTERM/SIGINT: stop acquiring and wait out the grace; a second signal ends the grace at once. */
  shutdown(signal: string): void {
    if (this.stopping) {
      if (this.runs.size > 0) this.log('shutdown_forced', { signal, jobs: this.runs.size });
      this.abortRuns();
      return;
    }
    this.stopping = true;
    this.stopped.abort();
    this.log('provisioner_stopping', {
      signal,
      jobs: this.runs.size,
      graceMs: this.options.shutdownGraceMs,
    });
    this.graceTimer = setTimeout(() => {
      if (this.runs.size > 0) {
        this.log('shutdown_grace_expired', { jobs: this.runs.size });
        this.abortRuns();
      }
    }, this.options.shutdownGraceMs);
  }

  private abortRuns(): void {
    this.graceOver = true;
    for (const run of this.runs) run.abort();
  }

  /** The key was refused: one line, then every worker stops (their calls would all be refused too). */
  private refuse(error: ApiError): void {
    if (this.refused) return;
    this.refused = error;
    this.options.write(`error: provisioner key refused by ${this.api.url}: ${error.code}: ${error.message}`);
    this.stopping = true;
    this.stopped.abort();
    this.abortRuns();
  }

  private async work(workerId: string): Promise<void> {
    let backoffMs = 0;
    while (!this.stopping) {
      let job;
      try {
        job = await this.api.acquire(workerId, this.options.waitMs, this.stopped.signal);
        backoffMs = 0;
      } catch (error) {
        if (this.stopping) break;
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          this.refuse(error);
          break;
        }
        backoffMs = Math.min(backoffMs === 0 ? BACKOFF_START_MS : backoffMs * 2, BACKOFF_CAP_MS);
        this.log('acquire_failed', {
          workerId,
          error: error instanceof ApiError ? `${error.code}: ${error.message}` : reasonOf(error),
          retryInMs: backoffMs,
        });
        await delay(backoffMs, undefined, { signal: this.stopped.signal }).catch(() => undefined);
        continue;
      }
      if (!job) continue;
      const run = new JobRun(job, workerId, {
        api: this.api,
        command: this.options.command,
        env: this.options.env,
        log: (event, fields) => this.log(event, fields),
        onRefused: (error) => this.refuse(error),
      });
      this.runs.add(run);
      // A job answered just as we were stopping is ours: it runs within the grace, or is given back after it.
      if (this.graceOver) run.abort();
      await run.done;
      this.runs.delete(run);
    }
  }
}
