import { performance } from 'node:perf_hooks';

/**
 * The claim scenarios' callers, apart from the scenarios (which load the module and pg): the HTTP clients' worker
 * thread imports only this, so that loading the module does not count as the clients' work.
 */
export const CONCURRENCY = 64;

export interface ClaimRun {
  seconds: number;
  /** CPU this Node process spent during the run (ms): the module's own share of the work. */
  nodeCpuMs: number;
  latencies: number[];
  workspaceIds: string[];
  misses: number;
}

/** Claimers share one counter of claims still to make; each runs its claims one after another. */
export async function runClaimers(
  claims: number,
  claim: (claimer: number, n: number) => Promise<string | null>,
): Promise<ClaimRun> {
  let next = 0;
  const latencies: number[] = [];
  const workspaceIds: string[] = [];
  let misses = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, claimer) => {
      while (next < claims) {
        const n = next++;
        const t = performance.now();
        const id = await claim(claimer, n);
        latencies.push(performance.now() - t);
        if (id) workspaceIds.push(id);
        else misses += 1;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  const nodeCpuMs = (used.user + used.system) / 1000;
  return { seconds: (performance.now() - started) / 1000, nodeCpuMs, latencies, workspaceIds, misses };
}
