import { Injectable } from '@nestjs/common';

/**
 * Where claim outcomes go besides the database: the metrics layer overrides this (a seam, so that ClaimService does
 * not depend on prom-client). The default does nothing.
 */
@Injectable()
export class ClaimObserver {
  recordClaim(_presetId: string, _claimed: boolean, _durationSeconds: number): void {}
}
