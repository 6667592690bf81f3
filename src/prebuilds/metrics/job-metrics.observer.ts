import { Injectable } from '@nestjs/common';
import { JobObserver } from '../provisioner/job-observer.js';
import type { JobFailureKind } from '../database/provisioner-job.types.js';
import { PrebuildsMetricsService } from './prebuilds-metrics.service.js';

/** Feeds job outcomes into the metrics; bound in place of the no-op JobObserver. */
@Injectable()
export class JobMetricsObserver extends JobObserver {
  constructor(private readonly metrics: PrebuildsMetricsService) {
    super();
  }

  override recordJobFailure(kind: JobFailureKind): void {
    this.metrics.recordJobFailure(kind);
  }

  override recordPrebuildFailed(presetId: string): void {
    this.metrics.recordFailed(this.metrics.labelsOf(presetId));
  }
}
