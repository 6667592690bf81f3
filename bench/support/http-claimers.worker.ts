import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';
import { runClaimers } from './claimers.js';

/** What the scenario hands the worker: where to POST, as whom, what, how many times, and the status expected. */
export interface HttpClaimersInput {
  /** Origin and path, e.g. http://127.0.0.1:1234/api/v2/workspaces. */
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
 * server's event loop, so here they are not either; they do share its two cores, hence undici's Pool (one keep-alive
 * connection per client), the cheapest client at hand: half the CPU per request of node:http in a measurement on
 * this machine. Posts the run (latencies, the ids of claimed workspaces) to the parent.
 */
const input = workerData as HttpClaimersInput;
const target = new URL(input.url);
const pool = new Pool(target.origin, { connections: input.tokens.length, pipelining: 1 });
try {
  const run = await runClaimers(input.requests, async (client, n) => {
    const response = await pool.request({
      path: target.pathname,
      method: 'POST',
      headers: { authorization: `Bearer ${input.tokens[client]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...input.body, name: `${input.namePrefix}${n}` }),
    });
    const body = (await response.body.json()) as { id?: string; claimed?: boolean };
    if (response.statusCode !== input.expectStatus)
      throw new Error(`POST ${target.pathname} answered ${response.statusCode}: ${JSON.stringify(body)}`);
    return body.claimed && body.id ? body.id : null;
  });
  parentPort?.postMessage(run);
} finally {
  await pool.close();
}
