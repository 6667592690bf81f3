import { performance } from 'node:perf_hooks';
import { ReconcilerService } from 'nest-prebuilds';
import { BENCH_NOW, FixedClock } from '../support/doubles.js';
import { withClient } from '../support/pg.js';
import { createPrebuildsApp } from '../support/prebuilds-app.js';
import { onFreshDatabase, type BenchContext, type ScenarioOutcome } from '../support/scenario.js';
import { seedPools } from '../support/seed.js';
import { round } from '../support/stats.js';

const PRESETS = 20;
const TITLE = '20,000 creates in one cycle (caps raised)';

/** Every cap raised above `creates`, so that one cycle writes them all (what the caps normally prevent). */
const raisedCaps = (creates: number) => ({
  maxInstancesPerPreset: creates,
  maxCreatesPerCycle: creates,
  maxInFlightCreates: creates,
  maxPrebuilds: creates,
});

interface BigCycle {
  ms: number;
  lockMs: number;
  rssGrowthMb: number;
}

/** One cycle creating `perPreset` prebuilds for each of 20 empty presets; RSS sampled every 5 ms while it runs. */
async function oneCycle(ctx: BenchContext, perPreset: number): Promise<BigCycle> {
  return onFreshDatabase(ctx, `big_${perPreset}`, async (db) => {
    await withClient(db.url, (client) =>
      seedPools(client, {
        label: 'big',
        templates: 2,
        presetsPerTemplate: PRESETS / 2,
        desired: perPreset,
        running: 0,
        deletedHistory: 0,
        oldVersion: false,
        scheduleEvery: 0,
        now: BENCH_NOW,
      }),
    );
    const app = await createPrebuildsApp({
      url: db.url,
      clock: new FixedClock(BENCH_NOW),
      pubsub: 'silent',
      module: raisedCaps(PRESETS * perPreset),
    });
    try {
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      const started = performance.now();
      const result = await app.get(ReconcilerService).reconcileAll();
      const ms = performance.now() - started;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const created = result.presets.reduce(
        (sum, p) => sum + p.actions.reduce((n, a) => n + (a.type === 'create' ? a.count : 0), 0),
        0,
      );
      if (created !== PRESETS * perPreset) throw new Error(`big cycle created ${created}`);
      return { ms, lockMs: result.elapsedMs, rssGrowthMb: (peak - before) / 1024 / 1024 };
    } finally {
      await app.close();
    }
  });
}

/**
 * Peak memory of a cycle must not grow with the number it creates (creates are generated and written batch by
 * batch). Baseline: the same cycle creating 1,000 (20 × 50) in the same run; the target is on the RSS ratio.
 */
export async function runBigCycle(ctx: BenchContext): Promise<ScenarioOutcome> {
  const small = await oneCycle(ctx, 50);
  const big = await oneCycle(ctx, 1000);
  return {
    key: 'big_cycle',
    rows: [
      {
        scenario: TITLE,
        metric: 'peak RSS growth',
        unit: 'MB',
        ours: round(big.rssGrowthMb),
        baseline: round(small.rssGrowthMb),
        target: null,
        note: 'baseline: the same cycle creating 1,000',
      },
      {
        scenario: TITLE,
        metric: 'reconcile lock held',
        unit: 'ms',
        ours: round(big.lockMs),
        baseline: round(small.lockMs),
        target: null,
        note: `${Math.round((PRESETS * 1000) / (big.ms / 1000))} creates/s`,
      },
    ],
    details: { small, big },
  };
}
