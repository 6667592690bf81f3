import type { PlanSection } from './explain.js';
import type { ResultRow } from './report.js';
import type { BenchDatabase, BenchServer } from './server.js';

export interface BenchContext {
  server: BenchServer;
  /** `--quick`: the same scales with fewer repetitions, about a minute in all. */
  quick: boolean;
  log(message: string): void;
}

export interface ScenarioOutcome {
  key: string;
  rows: ResultRow[];
  /** Every figure measured, for latest.json. */
  details: Record<string, unknown>;
  plans?: PlanSection[];
}

/** A fresh, migrated database for `work`, dropped afterwards whatever happens. */
export async function onFreshDatabase<T>(
  ctx: BenchContext,
  label: string,
  work: (db: BenchDatabase) => Promise<T>,
): Promise<T> {
  const db = await ctx.server.createDatabase(label);
  try {
    return await work(db);
  } finally {
    await db.drop();
  }
}
