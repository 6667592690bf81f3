import { Injectable } from '@nestjs/common';

/**
 * Where claim outcomes go besides the database: the metrics layer overrides this (a seam, so that ClaimService does
 * not depend on prom-client). The default does nothing.
 */
@Injectable()
export class ClaimObserver {
  recordClaim(_presetId: string, _claimed: boolean, _durationSeconds: number): void {}
  /** Percentiles of this replica's claim latency (the status reports them); null when nothing measures them. */
  claimLatency(): Promise<ClaimLatency | null> {
    return Promise.resolve(null);
  }
}

/** Seconds; a percentile is null before any claim. */
export interface ClaimLatency {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}
