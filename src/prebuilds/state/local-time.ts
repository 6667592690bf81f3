import { isValidTimezone } from './cron-schedule.js';

/** Hour (0-23) and weekday (0 = Sunday) of an instant in an IANA time zone. */
export interface LocalTime {
  hour: number;
  weekday: number;
}

const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();
/** Every preset of a cycle asks at the same `now`, most in one or two zones: keep the last answer per zone. */
const lastAnswer = new Map<string, { atMs: number; time: LocalTime }>();
const CACHE_LIMIT = 1_000;

/** Null for a zone Intl does not know. `''` means UTC. */
export function localTime(at: Date, timezone: string): LocalTime | null {
  const zone = timezone === '' ? 'UTC' : timezone;
  const atMs = at.getTime();
  const last = lastAnswer.get(zone);
  if (last?.atMs === atMs) return last.time;
  if (!isValidTimezone(zone)) return null;
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      hour: 'numeric',
      weekday: 'short',
    });
    if (formatters.size >= CACHE_LIMIT) formatters.clear();
    formatters.set(zone, format);
  }
  const parts = format.formatToParts(at);
  const time = {
    hour: Number(parts.find((p) => p.type === 'hour')?.value ?? 0),
    weekday: WEEKDAYS[parts.find((p) => p.type === 'weekday')?.value ?? 'Sun'] ?? 0,
  };
  if (lastAnswer.size >= CACHE_LIMIT) lastAnswer.clear();
  lastAnswer.set(zone, { atMs, time });
  return time;
}
