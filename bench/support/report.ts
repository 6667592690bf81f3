import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { round } from './stats.js';

export interface Target {
  op: '<=' | '>=';
  value: number;
  /**
   * 'ratio': the target is on ours / baseline (both measured in the same run, so the machine's noise cancels
   * out); absent: on our figure itself (counts, such as double hand-outs or statements).
   */
  on?: 'ratio';
}

/** A target on ours / baseline. */
export const times = (op: Target['op'], value: number): Target => ({ op, value, on: 'ratio' });

/** One line of the table: our figure, the raw-SQL baseline's figure for the same work, and the target. */
export interface ResultRow {
  scenario: string;
  metric: string;
  unit: string;
  ours: number | null;
  baseline: number | null;
  target: Target | null;
  note?: string;
}

export function ratio(row: ResultRow): number | null {
  if (row.ours === null || row.baseline === null || row.baseline === 0) return null;
  return round(row.ours / row.baseline);
}

export function met(row: ResultRow): boolean | null {
  if (row.ours === null || row.target === null) return null;
  const measured = row.target.on === 'ratio' ? ratio(row) : row.ours;
  if (measured === null) return null;
  return row.target.op === '<=' ? measured <= row.target.value : measured >= row.target.value;
}

const show = (x: number | null): string => (x === null ? '—' : x.toLocaleString('en-US'));
const showTarget = (t: Target | null): string =>
  t ? `${t.op === '<=' ? '≤' : '≥'} ${show(t.value)}${t.on === 'ratio' ? '× baseline' : ''}` : '—';
const showMet = (row: ResultRow): string => {
  const ok = met(row);
  return ok === null ? (row.ours === null ? 'n/a' : '—') : ok ? 'yes' : 'MISS';
};

function cells(row: ResultRow): string[] {
  return [
    row.scenario,
    `${row.metric} (${row.unit})`,
    show(row.ours),
    show(row.baseline),
    show(ratio(row)),
    showTarget(row.target),
    showMet(row),
    row.note ?? '',
  ];
}

const HEADER = ['scenario', 'metric', 'ours', 'baseline', 'ours/baseline', 'target', 'met', 'note'];

/** The console table: aligned columns. */
export function formatTable(rows: ResultRow[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(table[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line)].join(
    '\n',
  );
}

/** The same table in Markdown, for BENCHMARKS.md. */
export function formatMarkdownTable(rows: ResultRow[]): string {
  const line = (r: string[]) => `| ${r.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(HEADER), line(HEADER.map(() => '---')), ...rows.map((row) => line(cells(row)))].join('\n');
}

export async function writeText(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}
