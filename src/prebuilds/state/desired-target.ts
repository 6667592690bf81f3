import { isValidTimezone, matchesCron, schedulesOverlap, validateScheduleCron } from './cron-schedule.js';
import type { DesiredSource, PrebuildScheduleRow, PresetRow } from './types.js';

export interface DesiredTarget {
  desired: number;
  source: DesiredSource;
}

/** Counts come from the database; a negative one would make every later subtraction lie, so it reads as 0. */
export function nonNegative(n: number | null): number {
  return n === null || !(n > 0) ? 0 : n;
}

/**
 * The schedules that may set a preset's target, in their given order. Empty when the base count must be used
 * at every instant: no schedules, no or an unknown time zone, or two usable schedules that overlap (which one
 * wins would then depend on their order, which an admin cannot see in a cron). Form-breaking crons are dropped
 * first so that one bad row does not disable the good ones.
 */
export function usableSchedules(
  timezone: string,
  schedules: readonly PrebuildScheduleRow[],
): readonly PrebuildScheduleRow[] {
  if (schedules.length === 0 || !isValidTimezone(timezone)) return [];
  const valid = schedules.filter((s) => validateScheduleCron(s.cronExpression) === null);
  if (valid.length > 1 && schedulesOverlap(valid.map((s) => s.cronExpression))) return [];
  return valid;
}

/** DESIGN.md rule 2, for an active preset whose usable schedules are already known. */
export function resolveDesiredTarget(
  preset: PresetRow,
  usable: readonly PrebuildScheduleRow[],
  now: Date,
): DesiredTarget {
  for (const schedule of usable) {
    if (matchesCron(schedule.cronExpression, now, preset.schedulingTimezone)) {
      return { desired: nonNegative(schedule.desiredInstances), source: schedule.cronExpression };
    }
  }
  return { desired: nonNegative(preset.desiredInstances), source: 'base' };
}
