import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { ClaimService } from 'nest-prebuilds';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from 'nest-prebuilds';
import { ReconcilerService } from 'nest-prebuilds';
import type { CycleResult } from 'nest-prebuilds';
import { BENCH_NOW, FixedClock } from '../support/doubles.js';
import { findClaimStatement, repeatableClaim } from '../support/claim-statement.js';
import { explainStatements, type PlanSection } from '../support/explain.js';
import { withClient } from '../support/pg.js';
import { createPrebuildsApp, type PrebuildsApp } from '../support/prebuilds-app.js';
import { times, type ResultRow } from '../support/report.js';
import { onFreshDatabase, type BenchContext, type ScenarioOutcome } from '../support/scenario.js';
import { seedPools, seedUsers, type SeededPreset } from '../support/seed.js';
import type { CapturedStatement } from '../support/statement-log.js';
import { distribution, megabytes, round } from '../support/stats.js';

export interface NoopScale {
  key: string;
  title: string;
  templates: number;
  presetsPerTemplate: number;
  prebuildsPerPreset: number;
  cycles: number;
  quickCycles: number;
  /** The most ours / baseline may be at p50. */
  p50TargetRatio: number;
  /** Also measure RSS growth against this limit. */
  rssTargetMb?: number;
  /** EXPLAIN the snapshot statements and the claim statement at this scale. */
  explain: boolean;
  /** Also time the cycle with claim events in its windows and a target expression on every preset (issue 15). */
  demand?: boolean;
  /**
   * A smaller pool, seeded alike in a database of its own, whose cycles run between this scale's timed ones: the
   * growth row then divides two cycles measured in the same minutes, not minutes apart on a VM whose speed drifts.
   */
  growthAgainst?: PoolScale;
}

/** The shape of a seeded pool: templates × presets per template, each with this many running prebuilds. */
export interface PoolScale {
  templates: number;
  presetsPerTemplate: number;
  prebuildsPerPreset: number;
}

/** Cycles of the smaller pool after each timed cycle of the larger one (their p50 is the growth's baseline). */
const GROWTH_SAMPLES_PER_CYCLE = 3;

/**
 * The demand phase's targets, both equal to what the schedules say so that the cycle stays a no-op while every
 * active preset evaluates one: without a claim window (the engine's cost alone), and with one (the cycle then also
 * reads the windows; the seeded events never ask for more than the schedules).
 */
const PLAIN_EXPRESSION = 'max(scheduled_target, base)';
const DEMAND_EXPRESSION = 'max(scheduled_target, claims_10m + misses_10m)';
/** Claim events per preset, spread over the 120-minute window (a few land in every shorter one). */
const EVENTS_PER_PRESET = 6;
/** Cycles per block; blocks rotate through the variants so that drift hits them alike. */
const DEMAND_BLOCK = 5;

const WARMUP_CYCLES = 2;

/**
 * A cycle that finds every pool full: the price of the loop when there is nothing to do, paid every interval. The
 * module runs under Nest with the loop off (the bench calls reconcileAll), a fixed clock and a silent pubsub.
 */
export async function runNoopCycle(ctx: BenchContext, scale: NoopScale): Promise<ScenarioOutcome> {
  if (!scale.growthAgainst) return runNoopCycleBeside(ctx, scale, null);
  const smaller = scale.growthAgainst;
  return onFreshDatabase(ctx, `${scale.key}_growth`, async (db) => {
    ctx.log(`${scale.key}: seeding the growth baseline's pool`);
    const presetCount = smaller.templates * smaller.presetsPerTemplate;
    await withClient(db.url, (client) => seedNoopPool(client, smaller));
    const app = await createPrebuildsApp({ url: db.url, clock: new FixedClock(BENCH_NOW), pubsub: 'silent' });
    try {
      const reconciler = app.get(ReconcilerService);
      for (let i = 0; i < WARMUP_CYCLES; i++) assertNoop(await reconciler.reconcileAll(), presetCount);
      return await runNoopCycleBeside(ctx, scale, async () => {
        const started = performance.now();
        assertNoop(await reconciler.reconcileAll(), presetCount);
        return performance.now() - started;
      });
    } finally {
      await app.close();
    }
  });
}

/** A no-op pool as every scale seeds it: full pools, two deleted prebuilds per preset, an old version, schedules. */
function seedNoopPool(client: pg.Client, scale: PoolScale): Promise<SeededPreset[]> {
  return seedPools(client, {
    label: 'noop',
    templates: scale.templates,
    presetsPerTemplate: scale.presetsPerTemplate,
    desired: scale.prebuildsPerPreset,
    running: scale.prebuildsPerPreset,
    deletedHistory: 2,
    oldVersion: true,
    scheduleEvery: 10,
    now: BENCH_NOW,
  });
}

/** The scenario, with `smallerCycle` (one cycle of the growth baseline's pool, timed) run after each timed cycle. */
async function runNoopCycleBeside(
  ctx: BenchContext,
  scale: NoopScale,
  smallerCycle: (() => Promise<number>) | null,
): Promise<ScenarioOutcome> {
  return onFreshDatabase(ctx, scale.key, async (db) => {
    const presetCount = scale.templates * scale.presetsPerTemplate;
    ctx.log(`${scale.key}: seeding ${presetCount} presets × ${scale.prebuildsPerPreset} prebuilds`);
    const { presets, userId, seedMs } = await withClient(db.url, async (client) => {
      const started = performance.now();
      const seeded = await seedNoopPool(client, scale);
      const [user] = await seedUsers(client, 'noop', 1);
      return { presets: seeded, userId: user, seedMs: performance.now() - started };
    });

    const app = await createPrebuildsApp({ url: db.url, clock: new FixedClock(BENCH_NOW), pubsub: 'silent' });
    try {
      const reconciler = app.get(ReconcilerService);
      // Before the first cycle: growth then counts everything cycles allocate and keep, warm-up included.
      const rssBefore = settledRss();
      let rssPeak = rssBefore;
      for (let i = 0; i < WARMUP_CYCLES; i++) {
        assertNoop(await reconciler.reconcileAll(), presetCount);
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }

      const cycles = ctx.quick ? scale.quickCycles : scale.cycles;
      const wallMs: number[] = [];
      const lockedMs: number[] = [];
      const statements: number[] = [];
      const growthBaselineMs: number[] = [];
      for (let i = 0; i < cycles; i++) {
        const sent = app.statements.count;
        const started = performance.now();
        const result = await reconciler.reconcileAll();
        wallMs.push(performance.now() - started);
        lockedMs.push(result.elapsedMs);
        statements.push(app.statements.count - sent);
        assertNoop(result, presetCount);
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        if (smallerCycle)
          for (let k = 0; k < GROWTH_SAMPLES_PER_CYCLE; k++) growthBaselineMs.push(await smallerCycle());
      }
      const rssAfter = settledRss();

      const demand = scale.demand ? await measureDemand(ctx, db.url, reconciler, presetCount, cycles) : null;
      // The demand phase changed the catalog last: one cycle reads it again, so that the one recorded is steady.
      if (demand) assertNoop(await reconciler.reconcileAll(), presetCount);
      const recorded = await app.statements.record(() => reconciler.reconcileAll());
      const cycleStatements = recorded.slice(0, lockTransactionEnd(recorded) + 1);
      const plans = scale.explain
        ? await explainAtScale(db.url, app, recorded, presets[0], userId, scale.title)
        : [];
      const baseline = await runBaseline(db.url, cycles);

      const wall = distribution(wallMs);
      const rows: ResultRow[] = [
        row(scale, 'cycle p50', 'ms', wall.p50, baseline.p50, times('<=', scale.p50TargetRatio)),
        row(scale, 'cycle p95', 'ms', wall.p95, baseline.p95, null),
      ];
      if (demand) {
        const events = presetCount * EVENTS_PER_PRESET;
        const interleaved = `baseline: no expression, ${events.toLocaleString('en-US')} claim events, interleaved blocks`;
        rows.push(
          {
            ...row(
              scale,
              'cycle p50, a target expression on every preset',
              'ms',
              demand.plain.p50,
              demand.none.p50,
              times('<=', 1.05),
            ),
            note: `${PLAIN_EXPRESSION}; ${interleaved}`,
          },
          {
            ...row(
              scale,
              'cycle p50, expressions reading claim windows',
              'ms',
              demand.windows.p50,
              demand.none.p50,
              null,
            ),
            note: `${DEMAND_EXPRESSION} (+1 statement); ${interleaved}`,
          },
        );
      }
      // Constant in the number of presets by design; shown at both scales so that a regression shows.
      rows.push({
        scenario: scale.title,
        metric: 'SQL statements per cycle',
        unit: 'count',
        ours: cycleStatements.length,
        baseline: 1,
        target: { op: '<=', value: 10 },
        note: `+${recorded.length - cycleStatements.length} bookkeeping writes after the lock`,
      });
      if (scale.rssTargetMb) {
        // Growth is what the cycles leave behind (after the last one); the peak is the transient working set
        // of one cycle's snapshot, shown beside it because a host must have room for it too.
        rows.push(
          row(scale, 'RSS growth (after − before)', 'MB', megabytes(rssAfter - rssBefore), null, {
            op: '<=',
            value: scale.rssTargetMb,
          }),
          {
            ...row(scale, 'RSS peak − before', 'MB', megabytes(rssPeak - rssBefore), null, null),
            note: `before ${megabytes(rssBefore)}, peak ${megabytes(rssPeak)}, after ${megabytes(rssAfter)} MB`,
          },
        );
      }
      return {
        key: scale.key,
        rows,
        plans,
        details: {
          presets: presetCount,
          runningPrebuilds: presetCount * scale.prebuildsPerPreset,
          seedMs: round(seedMs),
          cycles,
          wallMs: wall,
          insideLockMs: distribution(lockedMs),
          statementsPerCycle: { total: Math.max(...statements), withoutBookkeeping: cycleStatements.length },
          statements: recorded.map((s) => firstLine(s.query)),
          rssMb: { before: megabytes(rssBefore), after: megabytes(rssAfter), peak: megabytes(rssPeak) },
          baseline,
          // The smaller pool's cycles between this scale's timed ones (growthAgainst), for the growth row.
          growthBaselineMs: smallerCycle ? distribution(growthBaselineMs) : null,
          demand,
          planTimings: plans.map((p) => ({ title: p.title, executionMs: p.executionMs, plainMs: p.plainMs })),
        },
      };
    } finally {
      await app.close();
    }
  });
}

/**
 * Seeds claim events, then times blocks of cycles with no expression, an expression without claim windows, and one
 * reading them, on every preset, in rotation (one UPDATE and a VACUUM between blocks, outside the timings). The
 * cycles must stay no-ops.
 */
async function measureDemand(
  ctx: BenchContext,
  url: string,
  reconciler: ReconcilerService,
  presetCount: number,
  cycles: number,
) {
  const setExpression = (expression: string | null) =>
    withClient(url, async (client) => {
      await client.query(
        `UPDATE prebuilds.template_version_presets SET desired_instances_expression = $1
          WHERE desired_instances IS NOT NULL`,
        [expression],
      );
      // Rewritten compactly each time, so that the UPDATEs' dead rows and index entries do not pile up on the
      // blocks that come later.
      await client.query('VACUUM FULL ANALYZE prebuilds.template_version_presets');
    });
  await withClient(url, async (client) => {
    await client.query(
      `INSERT INTO prebuilds.prebuild_events (preset_id, event_type, created_at)
       SELECT p.id, CASE WHEN k % 3 = 0 THEN 'claim_missed' ELSE 'claim_succeeded' END,
              $1::timestamptz - make_interval(mins => (k * 119 / $2)::int)
         FROM prebuilds.template_version_presets p CROSS JOIN generate_series(1, $2) k
        WHERE p.desired_instances IS NOT NULL`,
      [BENCH_NOW, EVENTS_PER_PRESET],
    );
    await client.query('VACUUM ANALYZE prebuilds.prebuild_events');
  });
  const variants = [
    { key: 'none', expression: null, ms: [] as number[] },
    { key: 'plain', expression: PLAIN_EXPRESSION, ms: [] as number[] },
    { key: 'windows', expression: DEMAND_EXPRESSION, ms: [] as number[] },
  ] as const;
  const rounds = Math.max(3, Math.ceil(cycles / DEMAND_BLOCK));
  for (let round = 0; round < rounds; round++) {
    // Each round starts with another variant, so that none always follows the same one.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const variant of order) {
      await setExpression(variant.expression);
      assertNoop(await reconciler.reconcileAll(), presetCount); // warm-up after the change
      for (let i = 0; i < DEMAND_BLOCK; i++) {
        const started = performance.now();
        const result = await reconciler.reconcileAll();
        variant.ms.push(performance.now() - started);
        assertNoop(result, presetCount);
        if (variant.expression !== null && i === 0) assertExpressionDecided(result);
      }
    }
  }
  await setExpression(null);
  ctx.log(`demand: ${rounds} rounds of ${DEMAND_BLOCK} cycles per variant`);
  return {
    none: distribution(variants[0].ms),
    plain: distribution(variants[1].ms),
    windows: distribution(variants[2].ms),
  };
}

/** A bench whose expressions fell back (or were never read) would time nothing. */
function assertExpressionDecided(result: CycleResult): void {
  const undecided = result.presets.filter(
    (p) => p.desiredSource !== undefined && p.desiredSource !== 'expression',
  );
  if (undecided.length > 0)
    throw new Error(
      `expressions did not decide for ${undecided.length} presets, e.g. ${undecided[0].presetId}`,
    );
}

function row(
  scale: NoopScale,
  metric: string,
  unit: string,
  ours: number,
  baseline: number | null,
  target: ResultRow['target'],
): ResultRow {
  return { scenario: scale.title, metric, unit, ours, baseline, target };
}

/** A no-op cycle that did something is a broken bench (wrong seed), not a slow module. */
function assertNoop(result: CycleResult, presets: number): void {
  const busy = result.presets.filter((p) => p.actions.length > 0 || p.errors.length > 0);
  if (!result.acquired || result.presetsTotal !== presets || busy.length > 0) {
    throw new Error(
      `no-op cycle was not a no-op: acquired=${result.acquired} presets=${result.presetsTotal}/${presets} ` +
        `busy=${busy.length} e.g. ${JSON.stringify(busy[0] ?? null)}`,
    );
  }
}

/** The least SQL that finds every pool full: one statement counting running prebuilds per active preset. */
async function runBaseline(url: string, runs: number) {
  return withClient(url, async (client) => {
    const sql = `
      SELECT p.id, p.desired_instances, count(j.id) AS running
        FROM prebuilds.template_version_presets p
        JOIN prebuilds.templates t ON t.active_version_id = p.template_version_id AND NOT t.deleted
        LEFT JOIN prebuilds.workspaces w ON w.preset_id = p.id AND w.owner_id = $1 AND NOT w.deleted
        LEFT JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id AND b.transition = 'start'
        LEFT JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id AND j.job_status = 'succeeded'
       WHERE p.desired_instances IS NOT NULL
       GROUP BY p.id`;
    const times: number[] = [];
    for (let i = 0; i < runs + WARMUP_CYCLES; i++) {
      const started = performance.now();
      await client.query(sql, [PREBUILDS_SYSTEM_USER_ID]);
      if (i >= WARMUP_CYCLES) times.push(performance.now() - started);
    }
    return distribution(times);
  });
}

/**
 * The cycle proper is its locked transaction; what follows the ROLLBACK is bookkeeping outside the lock (last-cycle
 * record, event retention, stale-job sweep), counted apart.
 */
function lockTransactionEnd(statements: CapturedStatement[]): number {
  const lock = statements.findIndex((s) => s.query.includes('pg_try_advisory_xact_lock'));
  const end = statements.findIndex((s, i) => i > lock && /^(ROLLBACK|COMMIT)/.test(s.query.trim()));
  // Counting would silently give 0 if the cycle's shape changed; a bench that cannot tell must say so.
  if (lock < 0 || end < 0) throw new Error('the recorded cycle has no locked transaction');
  return end;
}

const SNAPSHOT_NAMES: [RegExp, string][] = [
  [/FROM "?prebuilds"?.catalog_version/, 'readCatalog (version)'],
  [/"usingActiveVersion"/, 'findPresetsWithPrebuilds'],
  [/FROM prebuilds.prebuild_schedules/, 'findActiveSchedules'],
  [/"pendingNonActive"/, 'summarizePrebuilds'],
  [/AS "workspaceId"/, 'findRunningPrebuilds'],
  [/"hardLimited"/, 'findFailureStates'],
];

/** The snapshot reads of a recorded cycle (between the lock and the end of the transaction), then one claim. */
async function explainAtScale(
  url: string,
  app: PrebuildsApp,
  cycle: CapturedStatement[],
  preset: SeededPreset,
  userId: string,
  scale: string,
): Promise<PlanSection[]> {
  const lock = cycle.findIndex((s) => s.query.includes('pg_try_advisory_xact_lock'));
  const reads = cycle.slice(lock, lockTransactionEnd(cycle)).map((statement, i) => {
    const name = SNAPSHOT_NAMES.find(([re]) => re.test(statement.query))?.[1];
    return {
      title: `${scale}: snapshot ${i === 0 ? 'lock + settings' : (name ?? `statement ${i}`)}`,
      statement,
    };
  });
  const claimed = await app.statements.record(() =>
    app.get(ClaimService).createWorkspace({
      templateId: preset.templateId,
      ownerId: userId,
      name: 'explained-claim',
      presetId: preset.presetId,
    }),
  );
  return explainStatements(url, [
    ...reads,
    {
      title: `${scale}: claim statement (10 eligible in the preset)`,
      statement: repeatableClaim(findClaimStatement(claimed), 'explained-again'),
    },
  ]);
}

function firstLine(sql: string): string {
  return sql.trim().split('\n')[0].slice(0, 100);
}

/**
 * RSS after a full garbage collection when `npm run bench` exposes it (`node --expose-gc`): growth then counts what
 * the cycles keep, not the garbage of the last cycle that V8 had not collected yet (the peak row shows that).
 */
function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}
