import { ApiClient, type ApiAnswer } from './api-client.js';
import type { DaemonJob } from './job-env.js';
import type { LogLine } from './log-shipper.js';

export const PROVISIONER_KEY_HEADER = 'Prebuilds-Provisioner-Key';

export interface JobOutcome {
  status: 'succeeded' | 'failed';
  error?: string;
  agentLifecycle?: 'starting' | 'ready' | 'start_error';
}

/** The job API as a daemon's worker calls it, with its provisioner key. */
export class ProvisionerApi {
  private readonly client: ApiClient;

  constructor(url: string, key: string) {
    this.client = new ApiClient({ url, headers: { [PROVISIONER_KEY_HEADER]: key }, timeoutMs: 15_000 });
  }

  get url(): string {
    return this.client.url;
  }

  /** The job, or null when none came within the window (204). */
  async acquire(workerId: string, waitMs: number, signal: AbortSignal): Promise<DaemonJob | null> {
    const answer: ApiAnswer<DaemonJob> = await this.client.request(
      'POST',
      '/provisioner/jobs/acquire',
      { workerId, waitMs },
      // The server answers by the end of the window; more than that is a network that lost the answer.
      { signal, timeoutMs: waitMs + 15_000 },
    );
    return answer.status === 200 ? answer.body : null;
  }

  heartbeat(jobId: string, workerId: string): Promise<{ leaseExpiresAt: string; canceled: boolean }> {
    return this.client.post(`/provisioner/jobs/${jobId}/heartbeat`, { workerId });
  }

  appendLogs(jobId: string, workerId: string, lines: LogLine[]): Promise<unknown> {
    return this.client.post(`/provisioner/jobs/${jobId}/logs`, { workerId, lines });
  }

  complete(
    jobId: string,
    workerId: string,
    outcome: JobOutcome,
  ): Promise<{ jobId: string; status: string; repeated: boolean }> {
    return this.client.post(`/provisioner/jobs/${jobId}/complete`, { workerId, outcome });
  }

  release(jobId: string, workerId: string): Promise<{ jobId: string; outcome: string }> {
    return this.client.post(`/provisioner/jobs/${jobId}/release`, { workerId });
  }
}
