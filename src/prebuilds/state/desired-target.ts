import { isValidTimezone, matchesCron, schedulesOverlap, validateScheduleCron } from './cron-schedule.js';
import { localTime } from './local-time.js';
import { evaluateTargetExpression, type TargetVariables } from './target-expression.js';
import type { DesiredSource, PrebuildScheduleRow, PresetRow } from './types.js';

export interface DesiredTarget {
  desired: number;
  source: DesiredSource;
  /** Present when the preset has a target expression and was evaluated (active presets only). */
  expression?: ExpressionOutcome;
}

/** What a preset's target expression did at one `now` (the status and the plan carry it). */
export interface ExpressionOutcome {
  expression: string;
  /** Its value before clamping; null when it failed. */
  value: number | null;
  /** Why it failed (the target then fell back to `scheduledTarget`); null when it decided. */
  error: string | null;
  /** Rule 2's target, which the expression replaced or fell back to, and where that came from. */
  scheduledTarget: number;
  scheduledSource: DesiredSource;
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

/** The preset's expression, or null when it has none (absent, null or blank). */
export function targetExpressionOf(preset: PresetRow): string | null {
  const source = preset.desiredInstancesExpression;
  return typeof source === 'string' && source.trim() !== '' ? source : null;
}

/**
 * DESIGN.md rule 12 on top of rule 2: the expression's value replaces the scheduled target, floored at 0 (the caller
 * applies the per-preset cap); any failure (a bad time zone, a runtime error, a non-whole result) keeps the scheduled
 * target and says why.
 */
export function applyTargetExpression(
  expression: string,
  scheduled: DesiredTarget,
  preset: PresetRow,
  now: Date,
  counts: Omit<TargetVariables, 'base' | 'scheduled_target' | 'hour' | 'weekday'>,
): DesiredTarget {
  const fallback = (error: string): DesiredTarget => ({
    ...scheduled,
    expression: {
      expression,
      value: null,
      error,
      scheduledTarget: scheduled.desired,
      scheduledSource: scheduled.source,
    },
  });
  const local = localTime(now, preset.schedulingTimezone);
  if (local === null) return fallback(`unknown time zone '${preset.schedulingTimezone}'`);
  // A literal of every field rather than a spread: V8 copied the spread object on a slow path (~5 µs a preset).
  const result = evaluateTargetExpression(expression, {
    running: counts.running,
    eligible: counts.eligible,
    starting: counts.starting,
    stopping: counts.stopping,
    deleting: counts.deleting,
    expired: counts.expired,
    claims: counts.claims,
    misses: counts.misses,
    base: nonNegative(preset.desiredInstances),
    scheduled_target: scheduled.desired,
    hour: local.hour,
    weekday: local.weekday,
  });
  if (result.error !== null) return fallback(result.error);
  return {
    desired: Math.max(result.value, 0),
    source: 'expression',
    expression: {
      expression,
      value: result.value,
      error: null,
      scheduledTarget: scheduled.desired,
      scheduledSource: scheduled.source,
    },
  };
}
