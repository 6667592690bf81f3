import { Injectable } from '@nestjs/common';
import { Clock } from '../clock/clock.js';
import {
  type HistoryWindow,
  historyRange,
  PresetHistoryRepository,
} from '../database/preset-history.repository.js';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';

export interface PresetHistorySample {
  /** The bucket's start. */
  at: string;
  desired: number;
  running: number;
  eligible: number;
  starting: number;
  claims: number;
  misses: number;
}

export interface PresetHistoryResponse {
  presetId: string;
  window: HistoryWindow;
  resolutionSeconds: number;
  from: string;
  to: string;
  /** Oldest first; a bucket no full cycle sampled is absent, not zero. */
  samples: PresetHistorySample[];
}

/** A preset's pool over time, as the full cycles of every replica sampled it. */
@Injectable()
export class PresetHistoryService {
  constructor(
    private readonly history: PresetHistoryRepository,
    private readonly clock: Clock,
  ) {}

  async read(presetId: string, window: HistoryWindow = '1h'): Promise<PresetHistoryResponse> {
    const now = this.clock.now();
    const buckets = await this.history.read(presetId, window, now);
    if (!buckets) {
      throw new PrebuildsException(PrebuildsErrorCode.PresetNotFound, `preset ${presetId} not found`);
    }
    const { resolutionSeconds, from, to } = historyRange(window, now);
    return {
      presetId,
      window,
      resolutionSeconds,
      from: from.toISOString(),
      to: to.toISOString(),
      samples: buckets.map((bucket) => ({
        at: bucket.at.toISOString(),
        desired: bucket.desired,
        running: bucket.running,
        eligible: bucket.eligible,
        starting: bucket.starting,
        claims: bucket.claims,
        misses: bucket.misses,
      })),
    };
  }
}
