import { Injectable } from '@nestjs/common';
import { ClaimObserver, type ClaimLatency } from '../claim/claim-observer.js';
import { PrebuildsMetricsService } from './prebuilds-metrics.service.js';

/** Feeds claim outcomes into the metrics; bound in place of the no-op ClaimObserver. */
@Injectable()
export class ClaimMetricsObserver extends ClaimObserver {
  constructor(private readonly metrics: PrebuildsMetricsService) {
    super();
  }

  override recordClaim(presetId: string, claimed: boolean, durationSeconds: number): void {
    this.metrics.recordClaim(presetId, claimed, durationSeconds);
  }

  override claimLatency(): Promise<ClaimLatency> {
    return this.metrics.claimLatency();
  }
}
