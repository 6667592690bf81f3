// The pure state engine at scale: index a snapshot of N presets and R running prebuilds, then compute every
// preset's state and actions, as one reconciliation cycle does. Not a test: run it after building, e.g.
//   node dist/bench/state-engine.bench.js [presets] [running] [iterations]
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { GlobalSnapshot } from 'nest-prebuilds';
import type {
  BackoffRow,
  InProgressRow,
  PendingNonActiveRow,
  PrebuildScheduleRow,
  PresetRow,
  RunningPrebuildRow,
  SnapshotInput,
} from 'nest-prebuilds';

export interface StateEngineBenchOptions {
  presets?: number;
  running?: number;
  /** Timed cycles; each one reads the snapshot at a `now` one minute later than the previous. */
  iterations?: number;
  /** Untimed cycles first, so the JIT and the cron caches are warm as in a long-running reconciler. */
  warmup?: number;
  seed?: number;
}

export interface StateEngineBenchResult {
  bench: 'state-engine';
  presets: number;
  running: number;
  iterations: number;
  /** The very first cycle of the process: parses every cron and computes every overlap. */
  coldMs: number;
  p50Ms: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
  /** Actions of the last cycle, by type: a check that the cycle did real work. */
  actions: Record<string, number>;
}

const START = Date.UTC(2024, 5, 3, 8, 30); // a Monday morning, so weekday schedules start matching mid-run
const MINUTE = 60_000;
const BACKOFF_INTERVAL_MS = MINUTE;

/** Deterministic, so two runs measure the same snapshot. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCHEDULE_SETS: string[][] = [
  ['* 9-18 * * 1-5'],
  ['* 9-18 * * 1-5', '* 9-18 * * 6,0'],
  ['* 0-8 * * *', '* 19-23 * * *'],
  ['* 8-12 * * 1-5', '* 12-17 * * 1-5'], // overlapping at 12: falls back to the base count
  ['* 10 * * 1', 'not a cron'],
];
const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'Australia/Sydney', '', 'Bad/Zone'];

export function generateSnapshotInput(presetCount: number, runningCount: number, seed = 42): SnapshotInput {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const presets: PresetRow[] = [];
  const schedules: PrebuildScheduleRow[] = [];
  const inProgress: InProgressRow[] = [];
  const pendingNonActive: PendingNonActiveRow[] = [];
  const backoffs: BackoffRow[] = [];
  const hardLimitedPresetIds: string[] = [];

  for (let i = 0; i < presetCount; i++) {
    const presetId = `preset-${i}`;
    const templateId = `template-${i >> 2}`;
    const active = rand() < 0.85;
    const r = rand();
    presets.push({
      presetId,
      presetName: `preset ${i}`,
      templateId,
      templateName: `template ${i >> 2}`,
      templateVersionId: `${templateId}-v${active ? 2 : 1}`,
      organizationId: 'org-1',
      usingActiveVersion: active || r < 0.5,
      templateDeleted: !active && r >= 0.5 && r < 0.8,
      templateDeprecated: !active && r >= 0.8,
      desiredInstances: rand() < 0.05 ? null : Math.floor(rand() * 20),
      ttlSeconds: rand() < 0.3 ? pick([600, 3600, 86_400]) : null,
      lastInvalidatedAt: rand() < 0.1 ? new Date(START - Math.floor(rand() * 600) * MINUTE) : null,
      schedulingTimezone: pick(ZONES),
      prebuildStatus: rand() < 0.01 ? 'validation_failed' : 'healthy',
    });
    if (rand() < 0.3) {
      for (const cronExpression of pick(SCHEDULE_SETS)) {
        schedules.push({ presetId, cronExpression, desiredInstances: Math.floor(rand() * 20) });
      }
    }
    if (rand() < 0.2) {
      const version = `${templateId}-v${active ? 2 : 1}`;
      const transition = pick(['start', 'start', 'stop', 'delete'] as const);
      inProgress.push({ presetId, templateId, templateVersionId: version, transition, count: 1 + (i % 3) });
    }
    if (!active && rand() < 0.5) pendingNonActive.push({ presetId, count: 1 + (i % 2) });
    if (rand() < 0.05) {
      backoffs.push({ presetId, numFailed: 1 + (i % 3), lastFailedAt: new Date(START - (i % 5) * MINUTE) });
    }
    if (rand() < 0.01) hardLimitedPresetIds.push(presetId);
  }

  const running: RunningPrebuildRow[] = [];
  for (let i = 0; i < runningCount; i++) {
    const p = presets[Math.floor(rand() * presets.length)];
    running.push({
      workspaceId: `ws-${i.toString(36).padStart(6, '0')}`,
      presetId: p.presetId,
      templateId: p.templateId,
      templateVersionId: p.templateVersionId,
      ready: rand() < 0.9,
      createdAt: new Date(START - Math.floor(rand() * 48 * 60) * MINUTE),
    });
  }
  return { presets, schedules, running, inProgress, pendingNonActive, backoffs, hardLimitedPresetIds };
}

/** One reconciliation cycle's engine work; returns the actions by type. */
function cycle(input: SnapshotInput, now: Date): Record<string, number> {
  const counts: Record<string, number> = {};
  const snapshot = new GlobalSnapshot(input);
  for (const id of snapshot.presetIds()) {
    const slice = snapshot.filterByPreset(id);
    slice.calculateState(now);
    for (const action of slice.calculateActions(now, BACKOFF_INTERVAL_MS)) {
      counts[action.type] = (counts[action.type] ?? 0) + 1;
    }
  }
  return counts;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

export function runStateEngineBench(opts: StateEngineBenchOptions = {}): StateEngineBenchResult {
  const { presets = 10_000, running = 100_000, iterations = 15, warmup = 3, seed = 42 } = opts;
  const input = generateSnapshotInput(presets, running, seed);
  let minute = 0;
  const nextNow = (): Date => new Date(START + minute++ * MINUTE);

  let t = performance.now();
  let actions = cycle(input, nextNow());
  const coldMs = performance.now() - t;
  for (let i = 0; i < warmup; i++) cycle(input, nextNow());

  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const now = nextNow();
    t = performance.now();
    actions = cycle(input, now);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return {
    bench: 'state-engine',
    presets,
    running,
    iterations,
    coldMs: round(coldMs),
    p50Ms: round(percentile(times, 0.5)),
    p95Ms: round(percentile(times, 0.95)),
    minMs: round(times[0]),
    maxMs: round(times[times.length - 1]),
    actions,
  };
}

function main(): void {
  const [presets, running, iterations] = process.argv.slice(2).map(Number);
  const result = runStateEngineBench({
    presets: presets || undefined,
    running: running || undefined,
    iterations: iterations || undefined,
  });
  console.log(
    `state engine: ${result.presets} presets, ${result.running} running prebuilds, ${result.iterations} cycles\n` +
      `  cold ${result.coldMs} ms · p50 ${result.p50Ms} ms · p95 ${result.p95Ms} ms · min ${result.minMs} ms · max ${result.maxMs} ms (target p50 ≤ 100 ms)`,
  );
  console.log(JSON.stringify(result));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
