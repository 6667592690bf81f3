import { Injectable } from '@nestjs/common';
import { ClaimPool } from '../database/claim-pool.js';
import { type ClaimInput, type ClaimOutcome, ClaimRepository } from '../database/claim.repository.js';

/** At most this many claims in one statement: enough to empty a queue of 64 callers over 8 connections. */
const MAX_BATCH = 16;
const UNIQUE_VIOLATION = '23505';

interface Pending {
  input: ClaimInput;
  resolve(outcome: ClaimOutcome): void;
  reject(error: unknown): void;
}

/**
 * Group commit for claims without a quota. While a claim connection is free a claim runs at once, alone, as before.
 * When all of them are busy, callers queue here; each connection that frees takes the oldest queued claim and every
 * other queued claim of the same preset (same version and parameter values), up to MAX_BATCH, and runs them as one
 * statement (ClaimRepository.claimBatchStatement): one round trip and one commit for all, where the callers would
 * otherwise wait for one commit each. A batch that fails on a taken name wrote nothing; its claims then run one by
 * one, so that only the one whose name is taken gets the error.
 */
@Injectable()
export class ClaimBatcher {
  private readonly queue: Pending[] = [];
  private running = 0;

  constructor(
    private readonly pool: ClaimPool,
    private readonly claims: ClaimRepository,
  ) {}

  /** Whether claim() takes this input: a preset's claim without a quota (a quota's lock is per owner). */
  static accepts(input: ClaimInput): boolean {
    return input.presetId !== null && input.maxLiveWorkspaces === null;
  }

  claim(input: ClaimInput): Promise<ClaimOutcome> {
    return new Promise<ClaimOutcome>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.running < this.pool.size && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.running += 1;
      void this.run(batch).finally(() => {
        this.running -= 1;
        this.dispatch();
      });
    }
  }

  /** The oldest queued claim and the queued claims that can share its statement, in their order. */
  private takeBatch(): Pending[] {
    const first = this.queue.shift() as Pending;
    const key = batchKey(first.input);
    const batch = [first];
    for (let i = 0; i < this.queue.length && batch.length < MAX_BATCH;) {
      if (batchKey(this.queue[i].input) === key) batch.push(...this.queue.splice(i, 1));
      else i += 1;
    }
    return batch;
  }

  private async run(batch: Pending[]): Promise<void> {
    if (batch.length === 1) return this.runAlone(batch[0]);
    try {
      const outcomes = await this.pool.query<ClaimOutcome>(
        this.claims.claimBatchStatement(batch.map((pending) => pending.input)),
      );
      batch.forEach((pending, i) => pending.resolve(outcomes[i]));
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      for (const pending of batch) await this.runAlone(pending);
    }
  }

  private async runAlone(pending: Pending): Promise<void> {
    try {
      const [outcome] = await this.pool.query<ClaimOutcome>(this.claims.claimStatement(pending.input));
      pending.resolve(outcome);
    } catch (error) {
      pending.reject(error);
    }
  }
}

/** Claims with equal keys can share one statement: same template, version, preset and parameter values. */
function batchKey(input: ClaimInput): string {
  return JSON.stringify([
    input.templateId,
    input.versionId,
    input.presetId,
    Object.entries(input.parameters),
  ]);
}
