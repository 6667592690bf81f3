// `npm run bench` (full) and `npm run bench -- --quick`: every scenario against its raw-SQL baseline, on a fresh
// database each, against BENCH_DATABASE_URL or an embedded PostgreSQL. Prints the table and writes
// bench/results/latest.json, plans.txt and table.md. A benchmark, not a test: nothing here fails on a missed target.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { runClaimHttp } from './scenarios/claim-http.js';
import { runClaim } from './scenarios/claim.js';
import { runBigCycle } from './scenarios/big-cycle.js';
import { runFill } from './scenarios/fill.js';
import { runNoopCycle } from './scenarios/noop-cycle.js';
import { runRefill } from './scenarios/refill.js';
import { runStateEngine } from './scenarios/state-engine.js';
import { formatPlans } from './support/explain.js';
import { describeMachine } from './support/machine.js';
import {
  formatMarkdownTable,
  formatTable,
  met,
  ratio,
  times,
  writeText,
  type ResultRow,
} from './support/report.js';
import type { BenchContext, ScenarioOutcome } from './support/scenario.js';
import { openBenchServer } from './support/server.js';
import { round } from './support/stats.js';

const RESULTS = resolve(import.meta.dirname, '../../bench/results');

interface Step {
  key: string;
  /** Skipped by --quick unless --only names it. */
  fullOnly?: boolean;
  run(ctx: BenchContext): Promise<ScenarioOutcome>;
}

const STEPS: Step[] = [
  {
    key: 'noop_1k',
    run: (ctx) =>
      runNoopCycle(ctx, {
        key: 'noop_1k',
        title: 'no-op cycle, 1,000 presets / 10,000 prebuilds',
        templates: 100,
        presetsPerTemplate: 10,
        prebuildsPerPreset: 10,
        cycles: 20,
        quickCycles: 10,
        p50TargetRatio: 2,
        explain: true,
        demand: true,
      }),
  },
  {
    key: 'noop_10k',
    run: (ctx) =>
      runNoopCycle(ctx, {
        key: 'noop_10k',
        title: 'no-op cycle, 10,000 presets / 100,000 prebuilds',
        templates: 1_000,
        presetsPerTemplate: 10,
        prebuildsPerPreset: 10,
        cycles: 20,
        quickCycles: 5,
        p50TargetRatio: 1.5,
        rssTargetMb: 150,
        explain: true,
        demand: true,
      }),
  },
  { key: 'fill', run: runFill },
  { key: 'big_cycle', run: runBigCycle },
  { key: 'claim', run: runClaim },
  { key: 'claim_http', run: runClaimHttp },
  { key: 'refill', run: runRefill },
  { key: 'state_engine', run: runStateEngine },
  {
    // Growth: ten times the presets of noop_10k, compared with cycles of noop_10k's pool run between its own (the
    // row growthRows adds). A million prebuilds take minutes to seed, so --quick skips it unless --only names it.
    // Last: the server is still writing the dropped million-row database out for minutes afterwards, and the fill
    // that ran next measured 0.68–0.73× in three full runs against 0.85–0.97× on its own.
    key: 'noop_100k',
    fullOnly: true,
    run: (ctx) =>
      runNoopCycle(ctx, {
        key: 'noop_100k',
        title: 'no-op cycle, 100,000 presets / 1,000,000 prebuilds',
        templates: 10_000,
        presetsPerTemplate: 10,
        prebuildsPerPreset: 10,
        cycles: 5,
        quickCycles: 3,
        p50TargetRatio: 1.5,
        rssTargetMb: 1_500,
        explain: true,
        // noop_10k's pool again, its cycles interleaved with these: the growth row's baseline.
        growthAgainst: { templates: 1_000, presetsPerTemplate: 10, prebuildsPerPreset: 10 },
      }),
  },
];

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
  const started = performance.now();
  const log = (message: string) => console.error(`[bench] ${message}`);
  const server = await openBenchServer(log);
  // The embedded server runs detached; an interrupted run must still stop it and remove its data.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void server.stop().finally(() => process.exit(130)));
  }
  const outcomes: ScenarioOutcome[] = [];
  // --only=<key>[,<key>] runs a subset, for working on one scenario; a full run is what BENCHMARKS.md records.
  const wanted = only?.split(',');
  let machine;
  try {
    machine = await describeMachine(server.adminUrl, server.source);
    log(`PostgreSQL ${machine.postgres.version} (${server.source}), ${machine.cores} × ${machine.cpuModel}`);
    const ctx: BenchContext = { server, quick, log };
    const chosen = STEPS.filter((s) => (wanted ? wanted.includes(s.key) : !(quick && s.fullOnly)));
    for (const step of chosen) {
      log(`${step.key}: start`);
      const outcome = await step.run(ctx);
      outcomes.push(outcome);
      log(`${outcome.key} done`);
    }
  } finally {
    await server.stop();
  }

  const rows = [...outcomes.flatMap((outcome) => outcome.rows), ...growthRows(outcomes)];
  const plans = outcomes.flatMap((outcome) => outcome.plans ?? []);
  console.log(formatTable(rows));
  const report = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    durationS: round((performance.now() - started) / 1000, 1),
    machine: { ...machine, loadAverageAtEnd: loadavg().map((x) => round(x)) },
    only: wanted ?? null,
    rows: rows.map((row) => ({ ...row, ratio: ratio(row), met: met(row) })),
    scenarios: Object.fromEntries(outcomes.map((outcome) => [outcome.key, outcome.details])),
  };
  await writeText(resolve(RESULTS, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeText(resolve(RESULTS, 'table.md'), `${formatMarkdownTable(rows)}\n`);
  if (plans.length > 0) await writeText(resolve(RESULTS, 'plans.txt'), formatPlans(plans));
  log(`wrote ${RESULTS}/latest.json in ${report.durationS} s`);
}

/**
 * The no-op cycle at 100k presets against the same cycle at 10k: how the cost grows. The 10k cycles are those run
 * between the 100k ones (noop_100k's growthAgainst), measured in the same minutes.
 */
function growthRows(outcomes: ScenarioOutcome[]): ResultRow[] {
  const details = outcomes.find((o) => o.key === 'noop_100k')?.details as
    { wallMs?: { p50: number }; growthBaselineMs?: { p50: number; count: number } | null } | undefined;
  const large = details?.wallMs?.p50;
  const small = details?.growthBaselineMs?.p50;
  if (small === undefined || large === undefined) return [];
  return [
    {
      scenario: 'no-op cycle growth, 10,000 → 100,000 presets',
      metric: 'cycle p50',
      unit: 'ms',
      ours: large,
      baseline: small,
      target: times('<=', 10),
      note: `baseline: the 10k pool's cycle, ${details?.growthBaselineMs?.count} of them between the 100k ones`,
    },
  ];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
