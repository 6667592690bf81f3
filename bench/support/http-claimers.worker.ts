import { parentPort, workerData } from 'node:worker_threads';
import { runClaimers } from '../scenarios/claim.js';
import { jsonPoster } from './json-poster.js';

/** What the scenario hands the worker: where to POST, as whom, what, how many times, and the status expected. */
export interface HttpClaimersInput {
  url: string;
  tokens: string[];
  /** The preset to claim; each request names a fresh workspace `<namePrefix><n>`. */
  body: { templateId: string; presetId: string };
  namePrefix: string;
  requests: number;
  expectStatus: number;
}

/**
 * The 64 HTTP clients of the claim-through-HTTP scenario, on a thread of their own: a user's clients are not on the
 * server's event loop, so here they are not either (on the same two cores, though). Posts the run (a ClaimRun:
 * latencies, the ids of claimed workspaces) to the parent.
 */
const input = workerData as HttpClaimersInput;
const poster = jsonPoster(input.url, input.tokens.length);
try {
  const run = await runClaimers(input.requests, async (client, n) => {
    const { status, body } = await poster.post(
      { authorization: `Bearer ${input.tokens[client]}` },
      { ...input.body, name: `${input.namePrefix}${n}` },
    );
    if (status !== input.expectStatus)
      throw new Error(`POST ${new URL(input.url).pathname} answered ${status}: ${JSON.stringify(body)}`);
    const claim = body as { id?: string; claimed?: boolean };
    return claim.claimed && claim.id ? claim.id : null;
  });
  parentPort?.postMessage(run);
} finally {
  poster.close();
}
