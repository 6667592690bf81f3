import { CONCURRENCY, runClaimers, type ClaimRun } from '../support/claimers.js';
import pg from 'pg';
import { ClaimService } from 'nest-prebuilds';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from 'nest-prebuilds';
import { BENCH_NOW, FixedClock } from '../support/doubles.js';
import { findClaimStatement, repeatableClaim } from '../support/claim-statement.js';
import { explainStatements, type PlanSection } from '../support/explain.js';
import { withClient } from '../support/pg.js';
import { createPrebuildsApp } from '../support/prebuilds-app.js';
import { times, type ResultRow } from '../support/report.js';
import { onFreshDatabase, type BenchContext, type ScenarioOutcome } from '../support/scenario.js';
import { seedPools, seedUsers, type PoolSeed, type SeededPreset } from '../support/seed.js';
import type { CapturedStatement } from '../support/statement-log.js';
import { distribution, round } from '../support/stats.js';
import { sampleWaits } from '../support/wait-sampler.js';

const ELIGIBLE = 5_000;
/**
 * Fewer claims than eligible prebuilds by more than the number of claimers: with SKIP LOCKED a claimer misses only
 * when every remaining row is locked by another, so a miss here would be a bug, not the pool running dry. --quick
 * makes fewer claims from the same pool.
 */
export const FULL_CLAIMS = ELIGIBLE - CONCURRENCY - 1;
export const QUICK_CLAIMS = 2_000;
const TITLE = 'claim, 64 concurrent claimers, 5,000 eligible (ClaimService)';

export { CONCURRENCY, runClaimers, type ClaimRun };

const ONE_BIG_POOL = (now: Date): PoolSeed => ({
  label: 'claim',
  templates: 1,
  presetsPerTemplate: 1,
  desired: ELIGIBLE,
  running: ELIGIBLE,
  deletedHistory: 0,
  oldVersion: true,
  scheduleEvery: 0,
  now,
});

/**
 * The hottest case: every claimer wants the same preset, so each claim skips the rows the others hold. Our side is
 * ClaimService with the real PostgresPubsub (the refill NOTIFY, the job post and the claim event are part of a
 * claim, batched as in production) on the module's claim pool (its default size); the baseline is the bare claim
 * UPDATE with as many callers, at its better of 64 and 8 connections (runBareClaimBaseline).
 */
export async function runClaim(ctx: BenchContext): Promise<ScenarioOutcome> {
  const claims = ctx.quick ? QUICK_CLAIMS : FULL_CLAIMS;
  const ours = await onFreshDatabase(ctx, 'claim', async (db) => {
    const { preset, users } = await seed(db.url);
    const app = await createPrebuildsApp({
      url: db.url,
      clock: new FixedClock(BENCH_NOW),
      pubsub: 'postgres',
      poolSize: CONCURRENCY,
    });
    try {
      const service = app.get(ClaimService);
      const claimAs = (claimer: number, name: string) =>
        service.createWorkspace({
          templateId: preset.templateId,
          ownerId: users[claimer],
          name,
          presetId: preset.presetId,
        });
      const warmup = await app.statements.record(() => claimAs(0, 'warmup'));
      const statement = findClaimStatement(warmup);
      const before = await explainClaim(db.url, statement, `${ELIGIBLE - 1} eligible, before the run`);
      const sent = app.statements.count;
      const waits = await sampleWaits(db.url);
      const run = await runClaimers(claims, async (claimer, n) => {
        const result = await claimAs(claimer, `claim-${n}`);
        return result.claimed ? result.id : null;
      });
      const waitProfile = await waits.stop();
      const statements = app.statements.count - sent;
      const after = await explainClaim(db.url, statement, `${ELIGIBLE - 1 - claims} eligible, after the run`);
      const doubles = await withClient(db.url, (client) => countDoubles(client, preset, run, 1));
      return {
        run,
        doubles,
        statementsPerClaim: round(statements / claims, 1),
        statementsOfOneClaim: warmup.length,
        statementList: warmup.map((s) => s.query.trim().split('\n')[0].slice(0, 90)),
        waitProfile,
        plans: [before, after],
      };
    } finally {
      await app.close();
    }
  });

  const baseline = await runBareClaimBaseline(ctx, claims, 'claim_base');

  const oursLatency = distribution(ours.run.latencies);
  const baseLatency = distribution(baseline.run.latencies);
  const rate = claimRate;
  const rows = claimRows(TITLE, ours, baseline, 0.45);
  return {
    key: 'claim',
    rows,
    plans: ours.plans,
    details: {
      concurrency: CONCURRENCY,
      eligible: ELIGIBLE,
      claims,
      ours: {
        seconds: round(ours.run.seconds, 3),
        claimsPerSecond: rate(ours.run),
        nodeCpuMsPerClaim: round(ours.run.nodeCpuMs / claims, 3),
        misses: ours.run.misses,
        latencyMs: oursLatency,
        checks: ours.doubles,
        statementsPerClaim: ours.statementsPerClaim,
        statementsOfOneClaim: ours.statementsOfOneClaim,
        statements: ours.statementList,
        waits: ours.waitProfile,
      },
      baseline: {
        seconds: round(baseline.run.seconds, 3),
        claimsPerSecond: rate(baseline.run),
        nodeCpuMsPerClaim: round(baseline.run.nodeCpuMs / claims, 3),
        misses: baseline.run.misses,
        latencyMs: baseLatency,
        checks: baseline.doubles,
        waits: baseline.waitProfile,
        connections: baseline.connections,
      },
      planTimings: ours.plans.map((p) => ({
        title: p.title,
        executionMs: p.executionMs,
        plainMs: p.plainMs,
      })),
    },
  };
}

/**
 * The bare claim UPDATE loop, 64 callers as in ours, on a freshly seeded database, twice: on 64 connections (one per
 * caller) and on 8 (callers queue in Node, as ours do on the claim pool). The better of the two is the baseline, so
 * that ours is never compared with a handicapped loop.
 */
export async function runBareClaimBaseline(ctx: BenchContext, claims: number, label: string) {
  const runs = [];
  for (const connections of BASELINE_CONNECTIONS) {
    runs.push(await bareClaimLoop(ctx, claims, `${label}_${connections}`, connections));
  }
  return runs.reduce((best, run) => (claimRate(run.run) > claimRate(best.run) ? run : best));
}

const BASELINE_CONNECTIONS = [CONCURRENCY, 8];

async function bareClaimLoop(ctx: BenchContext, claims: number, label: string, connections: number) {
  return onFreshDatabase(ctx, label, async (db) => {
    const { preset, users } = await seed(db.url);
    const pool = new pg.Pool({ connectionString: db.url, max: connections });
    // Dropping the database ends idle connections; that is the end of the run, not a failure.
    pool.on('error', () => undefined);
    try {
      // Open every connection before the clock starts, as ours are by its warm-up claim.
      const opened = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
      opened.forEach((client) => client.release());
      const waits = await sampleWaits(db.url);
      const run = await runClaimers(claims, async (claimer, n) => {
        const { rows } = await pool.query<{ id: string }>(BARE_CLAIM, [
          preset.presetId,
          users[claimer],
          `claim-${n}`,
        ]);
        return rows[0]?.id ?? null;
      });
      const waitProfile = await waits.stop();
      const doubles = await withClient(db.url, (client) => countDoubles(client, preset, run, 0));
      return { run, doubles, waitProfile, connections };
    } finally {
      await pool.end();
    }
  });
}

export const claimRate = (run: ClaimRun): number => Math.round(run.workspaceIds.length / run.seconds);

/** The table rows of a claim race against its baseline: rate, p50, p99 and double hand-outs. */
export function claimRows(
  title: string,
  ours: { run: ClaimRun; doubles: { doubles: number } },
  baseline: { run: ClaimRun; doubles: { doubles: number }; connections: number },
  rateTarget: number,
): ResultRow[] {
  const oursLatency = distribution(ours.run.latencies);
  const baseLatency = distribution(baseline.run.latencies);
  const row = (metric: string, unit: string, a: number, b: number, target: ResultRow['target']) => ({
    scenario: title,
    metric,
    unit,
    ours: a,
    baseline: b,
    target,
  });
  return [
    row('claims/s', '/s', claimRate(ours.run), claimRate(baseline.run), times('>=', rateTarget)),
    row('latency p50', 'ms', oursLatency.p50, baseLatency.p50, null),
    row('latency p99', 'ms', oursLatency.p99, baseLatency.p99, times('<=', 3)),
    {
      ...row('double hand-outs', 'count', ours.doubles.doubles, baseline.doubles.doubles, {
        op: '<=',
        value: 0,
      }),
      note: `misses ${ours.run.misses} / ${baseline.run.misses}; baseline on ${baseline.connections} connections`,
    },
  ];
}

export async function seed(url: string): Promise<{ preset: SeededPreset; users: string[] }> {
  return withClient(url, async (client) => {
    const [preset] = await seedPools(client, ONE_BIG_POOL(BENCH_NOW));
    const users = await seedUsers(client, 'claim', CONCURRENCY);
    return { preset, users };
  });
}

function explainClaim(url: string, statement: CapturedStatement, when: string): Promise<PlanSection> {
  const fresh = repeatableClaim(statement, `explained-${when}`);
  return explainStatements(url, [{ title: `claim statement (one preset, ${when})`, statement: fresh }]).then(
    ([section]) => section,
  );
}

/**
 * Counted in the database after the run: a prebuild handed out twice would leave fewer user-owned workspaces than
 * claims reported (the second UPDATE overwrites the first owner), or two claim builds on one workspace.
 */
export async function countDoubles(
  client: pg.Client,
  preset: SeededPreset,
  run: ClaimRun,
  earlierClaims: number,
) {
  const { rows } = await client.query<{ owned: number; claimBuilds: number; claimedWorkspaces: number }>(
    `SELECT (SELECT count(*) FROM prebuilds.workspaces WHERE preset_id = $1 AND owner_id <> $2)::int AS owned,
            (SELECT count(*) FROM prebuilds.workspace_builds WHERE reason = 'claim')::int AS "claimBuilds",
            (SELECT count(DISTINCT workspace_id) FROM prebuilds.workspace_builds WHERE reason = 'claim')::int
              AS "claimedWorkspaces"`,
    [preset.presetId, PREBUILDS_SYSTEM_USER_ID],
  );
  const { owned, claimBuilds, claimedWorkspaces } = rows[0];
  const reported = run.workspaceIds.length + earlierClaims;
  const distinctReported = new Set(run.workspaceIds).size;
  const doubles = Math.max(
    reported - owned,
    claimBuilds - claimedWorkspaces,
    run.workspaceIds.length - distinctReported,
  );
  return { reported, owned, claimBuilds, claimedWorkspaces, distinctReported, doubles };
}

/** The least SQL a claim can be: take the oldest unlocked prebuild of the preset and give it to the user. */
const BARE_CLAIM = `
  UPDATE prebuilds.workspaces SET owner_id = $2, name = $3, updated_at = now()
   WHERE id = (SELECT id FROM prebuilds.workspaces
                WHERE owner_id = '${PREBUILDS_SYSTEM_USER_ID}' AND NOT deleted AND preset_id = $1
                ORDER BY created_at, id
                LIMIT 1
                  FOR UPDATE SKIP LOCKED)
  RETURNING id`;
