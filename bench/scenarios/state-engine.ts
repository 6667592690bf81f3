import { performance } from 'node:perf_hooks';
import type { SnapshotInput } from 'nest-prebuilds';
import { generateSnapshotInput, runStateEngineBench } from '../state-engine.bench.js';
import type { BenchContext, ScenarioOutcome } from '../support/scenario.js';
import { distribution } from '../support/stats.js';

const PRESETS = 10_000;
const RUNNING = 100_000;
const TITLE = 'state engine alone, 10,000 presets / 100,000 rows';

/**
 * The pure engine (bench/state-engine.bench.ts), against the least computation that could decide a cycle: count
 * running prebuilds per preset and subtract from the base desired count, with no schedules, expiry, readiness,
 * backoff or ordering of deletes.
 */
export async function runStateEngine(ctx: BenchContext): Promise<ScenarioOutcome> {
  const iterations = ctx.quick ? 5 : 15;
  const engine = runStateEngineBench({ presets: PRESETS, running: RUNNING, iterations });
  const input = generateSnapshotInput(PRESETS, RUNNING);
  const times: number[] = [];
  for (let i = 0; i < iterations + 3; i++) {
    const started = performance.now();
    countShortfalls(input);
    if (i >= 3) times.push(performance.now() - started);
  }
  const baseline = distribution(times);
  return {
    key: 'state_engine',
    rows: [
      {
        scenario: TITLE,
        metric: 'compute p50',
        unit: 'ms',
        ours: engine.p50Ms,
        baseline: baseline.p50,
        target: { op: '<=', value: 100 },
        note: `cold first cycle ${engine.coldMs} ms`,
      },
    ],
    details: { engine, baselineMs: baseline },
  };
}

function countShortfalls(input: SnapshotInput): number {
  const running = new Map<string, number>();
  for (const row of input.running) {
    if (row.presetId) running.set(row.presetId, (running.get(row.presetId) ?? 0) + 1);
  }
  let creates = 0;
  for (const preset of input.presets) {
    creates += Math.max(0, (preset.desiredInstances ?? 0) - (running.get(preset.presetId) ?? 0));
  }
  return creates;
}
