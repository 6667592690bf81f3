import { describe, expect, it } from '@jest/globals';
import { histogramQuantile } from './histogram-quantile.js';

describe('histogramQuantile', () => {
  const buckets = [
    [0.01, 50],
    [0.1, 90],
    [1, 100],
    [Number.POSITIVE_INFINITY, 100],
  ] as const;

  it('interpolates inside the bucket the rank falls in', () => {
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.01);
    expect(histogramQuantile(0.7, buckets)).toBeCloseTo(0.01 + 0.09 * (20 / 40));
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.1 + 0.9 * (9 / 10));
  });

  it('answers the highest finite bound for a rank in +Inf, and null when empty', () => {
    expect(
      histogramQuantile(0.99, [
        [0.1, 1],
        [Number.POSITIVE_INFINITY, 10],
      ]),
    ).toBe(0.1);
    expect(
      histogramQuantile(0.5, [
        [0.1, 0],
        [Number.POSITIVE_INFINITY, 0],
      ]),
    ).toBeNull();
    expect(histogramQuantile(0.5, [])).toBeNull();
  });
});
