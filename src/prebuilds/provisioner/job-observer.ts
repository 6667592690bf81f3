import { Injectable } from '@nestjs/common';
import type { JobFailureKind } from '../database/provisioner-job.types.js';

/**
 * Where job outcomes go besides the database: the metrics layer overrides this (a seam, like ClaimObserver, so that
 * the job service does not depend on prom-client). The default does nothing.
 */
@Injectable()
export class JobObserver {
  /** A job failed, by kind (DESIGN.md rule 6: only `build` feeds backoff and the hard limit). */
  recordJobFailure(_kind: JobFailureKind): void {}
  /** A prebuild's own start build failed. */
  recordPrebuildFailed(_presetId: string): void {}
}
