import { Clock } from '../../src/prebuilds/clock/clock.js';

/** A clock tests move by hand. */
export class FakeClock extends Clock {
  private current: Date;

  constructor(start: Date | string = '2026-06-01T12:00:00Z') {
    super();
    this.current = new Date(start);
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): Date {
    this.current = new Date(this.current.getTime() + ms);
    return this.now();
  }

  set(at: Date | string): void {
    this.current = new Date(at);
  }
}
