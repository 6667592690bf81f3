import { Clock } from 'nest-prebuilds';
import { PrebuildsPubsub } from 'nest-prebuilds';

/** Time stands still: every cycle sees the same `now`, so repeated no-op cycles do identical work. */
export class FixedClock extends Clock {
  constructor(private readonly at: Date) {
    super();
  }

  now(): Date {
    return new Date(this.at);
  }
}

/** Publishes nowhere: isolates the cycle from LISTEN/NOTIFY, which the scenario does not measure. */
export class SilentPubsub extends PrebuildsPubsub {
  async publish(): Promise<void> {}

  subscribe(): () => void {
    return () => undefined;
  }
}

/** The instant the seeded rows are dated from; fixed so that runs compare. */
export const BENCH_NOW = new Date('2026-06-01T12:00:00Z');
