import { Injectable } from '@nestjs/common';

/**
 * The only source of time in the module. A reconcile cycle reads it once and passes `now` down; every timestamp the
 * module writes comes from it too, so tests move time by advancing a fake clock instead of faking timers around a
 * real database driver.
 */
export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
