import { performance } from 'node:perf_hooks';
import { withClient } from './pg.js';
import { round } from './stats.js';
import type { CapturedStatement } from './statement-log.js';

export interface PlanSection {
  title: string;
  statement: CapturedStatement;
  plan: string;
  /** Server-side, from EXPLAIN ANALYZE (its per-row instrumentation inflates plans with many loops). */
  executionMs: number | null;
  /** The statement run as sent, timed at the client (best of three), in the same snapshot, rolled back. */
  plainMs: number;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of statements the module really sent, with their parameters, in one REPEATABLE READ
 * transaction that is rolled back: a claim UPDATE is executed for its timing but leaves nothing behind. Each
 * statement is also run plainly, each run undone with a savepoint, so that a write does not meet its own effect.
 */
export async function explainStatements(
  url: string,
  statements: { title: string; statement: CapturedStatement }[],
): Promise<PlanSection[]> {
  return withClient(url, async (client) => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    try {
      const sections: PlanSection[] = [];
      for (const { title, statement } of statements) {
        let plainMs = Number.POSITIVE_INFINITY;
        for (let i = 0; i < 3; i++) {
          await client.query('SAVEPOINT plain');
          const started = performance.now();
          await client.query(statement.query, statement.parameters);
          plainMs = Math.min(plainMs, performance.now() - started);
          await client.query('ROLLBACK TO SAVEPOINT plain');
        }
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, BUFFERS) ${statement.query}`,
          statement.parameters,
        );
        const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
        const execution = /Execution Time: ([\d.]+) ms/.exec(plan);
        sections.push({
          title,
          statement,
          plan,
          executionMs: execution ? Number(execution[1]) : null,
          plainMs: round(plainMs),
        });
      }
      return sections;
    } finally {
      await client.query('ROLLBACK');
    }
  });
}

/** Plans as text: the statement, its parameters, then the plan. */
export function formatPlans(sections: PlanSection[]): string {
  return sections
    .map((section) =>
      [
        `=== ${section.title} ===`,
        section.statement.query.replace(/^\s*\n/, '').trimEnd(),
        `-- parameters: ${JSON.stringify(section.statement.parameters)}`,
        `-- run plainly (best of 3, client-side): ${section.plainMs} ms`,
        '',
        section.plan,
        '',
      ].join('\n'),
    )
    .join('\n');
}
