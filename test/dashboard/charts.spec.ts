import { describe, expect, it } from '@jest/globals';

interface History {
  window: string;
  resolutionSeconds: number;
  from: string;
  to: string;
  samples: Record<string, number | string>[];
}

/** The dashboard's browser module (plain JavaScript, no types); its pure functions need no DOM. */
interface ChartsModule {
  alignedData(
    history: History,
    fields: string[],
    holdSteps: boolean,
  ): { data: (number | null)[][]; source: (number | null)[] };
  hitRate(history: History): { claims: number; misses: number; rate: number | null };
  formatRate(rate: number | null): string;
  summarise(kind: 'card' | 'pool' | 'demand', history: History): string;
}
const { alignedData, formatRate, hitRate, summarise }: ChartsModule = await import(
  // A path the compiler does not resolve: the module has no declarations, the interface above stands for them.
  '../../src/host/dashboard/public/charts.js' as string
);

const sample = (at: string, values: Partial<Record<string, number>> = {}) => ({
  at,
  desired: 2,
  running: 2,
  eligible: 2,
  starting: 0,
  claims: 0,
  misses: 0,
  ...values,
});

const seconds = (iso: string) => Date.parse(iso) / 1000;

const history = (samples: ReturnType<typeof sample>[], to = '2026-12-02T10:10:30Z') => ({
  presetId: 'p',
  window: '1h',
  resolutionSeconds: 60,
  from: '2026-12-02T09:10:30Z',
  to,
  samples,
});

describe('dashboard charts: what the history answer becomes', () => {
  it('hit rate: claims / (claims + misses) over the window, a dash when there were none', () => {
    const rate = hitRate(
      history([
        sample('2026-12-02T10:00:00Z', { claims: 2 }),
        sample('2026-12-02T10:01:00Z', { claims: 1, misses: 1 }),
      ]),
    );
    expect(rate).toEqual({ claims: 3, misses: 1, rate: 0.75 });
    expect(formatRate(rate.rate)).toBe('75%');
    expect(formatRate(hitRate(history([sample('2026-12-02T10:00:00Z')])).rate)).toBe('—');
    expect(formatRate(hitRate(history([])).rate)).toBe('—');
  });

  it('step lines: contiguous buckets join, a missing bucket breaks the line, the last holds until now', () => {
    const { data, source } = alignedData(
      history([
        sample('2026-12-02T10:00:00Z', { eligible: 1 }),
        sample('2026-12-02T10:01:00Z', { eligible: 2 }),
        // 10:02 and 10:03 were not sampled
        sample('2026-12-02T10:04:00Z', { eligible: 0 }),
        sample('2026-12-02T10:10:00Z', { eligible: 1 }),
      ]),
      ['eligible'],
      true,
    );
    expect(data[0]).toEqual([
      seconds('2026-12-02T10:00:00Z'),
      seconds('2026-12-02T10:01:00Z'),
      seconds('2026-12-02T10:02:00Z'), // 10:01's bucket ends
      seconds('2026-12-02T10:03:00Z'), // the break
      seconds('2026-12-02T10:04:00Z'),
      seconds('2026-12-02T10:05:00Z'),
      seconds('2026-12-02T10:07:30Z'),
      seconds('2026-12-02T10:10:00Z'),
      seconds('2026-12-02T10:10:30Z'), // the bucket in progress, up to `to`
    ]);
    expect(data[1]).toEqual([1, 2, 2, null, 0, 0, null, 1, 1]);
    // Each x shows the sample it belongs to (legend, hover); a break shows none.
    expect(source).toEqual([0, 1, 1, null, 4, 4, null, 7, 7]);
  });

  it('bars: one x per sample, nothing added', () => {
    const { data } = alignedData(
      history([sample('2026-12-02T10:00:00Z', { claims: 3 }), sample('2026-12-02T10:05:00Z', { misses: 1 })]),
      ['claims', 'misses'],
      false,
    );
    expect(data).toEqual([
      [seconds('2026-12-02T10:00:00Z'), seconds('2026-12-02T10:05:00Z')],
      [3, 0],
      [0, 1],
    ]);
  });

  it('summaries: the latest values and the spread, or the totals, or that nothing was sampled yet', () => {
    const answer = history([
      sample('2026-12-02T10:00:00Z', { eligible: 0, claims: 1 }),
      sample('2026-12-02T10:01:00Z', { eligible: 2, misses: 1 }),
    ]);
    expect(summarise('card', answer)).toMatch(
      /^Last hour \(2 samples, one per 1 min\): latest \(.+\) eligible 2, desired 2; over the window eligible 0 to 2, desired 2\.$/,
    );
    expect(summarise('demand', answer)).toMatch(
      /^Last hour \(2 samples, one per 1 min\): 1 claim and 1 miss in all, hit rate 50%; latest bucket \(.+\): 0 claims, 1 miss\.$/,
    );
    expect(summarise('pool', history([]))).toBe(
      'Last hour: no samples yet (one is written after each full reconcile cycle).',
    );
  });
});
