/**
 * The q-quantile of a cumulative histogram (`[upper bound, count of observations ≤ it]`, ascending, the last bound
 * +Inf), interpolated linearly inside the bucket it falls in, as Prometheus' histogram_quantile does: an estimate
 * whose error is the bucket's width. A quantile in the +Inf bucket answers the highest finite bound. Null when empty.
 */
export function histogramQuantile(
  q: number,
  cumulative: readonly (readonly [number, number])[],
): number | null {
  const total = cumulative.length > 0 ? cumulative[cumulative.length - 1][1] : 0;
  if (total === 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of cumulative) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket === 0 ? bound : lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}
