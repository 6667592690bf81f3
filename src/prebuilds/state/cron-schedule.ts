import { Cron } from 'croner';

/**
 * Prebuild schedules: the cron form we accept, time-zone checks, matching and overlap.
 *
 * Form (DESIGN.md rule 2): exactly 5 fields `minute hour day-of-month month day-of-week`. Minute, day-of-month
 * and month must be `*`. Hour (0-23) and day-of-week (0-6, Sunday = 0) are `*` or a comma list of values and
 * ranges (`9-18`, `1-5`, `6,0`, `0-5,22-23`). Rejected on purpose, to keep one meaning per schedule: steps
 * (`*\/2`), names (`MON`), `7` for Sunday, `?`, `L`, `#`, wrapping ranges (`22-2`) and `*` inside a list.
 *
 * The HTTP layer uses the validators to answer 400; the engine uses the same ones to ignore bad stored rows.
 * Matching is done by croner in the preset's time zone; we only pre-check the form.
 */

/** The engine evaluates every preset each cycle; parsed crons and their last answer are reused across calls. */
const CACHE_LIMIT = 10_000;

interface CompiledCron {
  /** Why the expression breaks the form, or null when it is usable. */
  error: string | null;
  /** The 6-field croner pattern (seconds `*`), so that any second of a matching minute matches. */
  pattern: string;
  /** Hours of the week (bit h = Sunday 00:00 + h hours) this cron matches; computed on first use. */
  weekMask?: bigint;
}

interface Matcher {
  cron: Cron;
  /** Every preset of a cycle is evaluated at the same `now`: remember the last instant asked and its answer. */
  lastAtMs: number;
  lastResult: boolean;
}

const compiled = new Map<string, CompiledCron>();
const matchers = new Map<string, Matcher>();
const timezones = new Map<string, boolean>();

function remember<K, V>(cache: Map<K, V>, key: K, value: V): V {
  // Stored rows are few and stable; the limit only guards a long-lived process against unbounded input.
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

const FIELD_NAMES = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
const ITEM = /^(\d{1,2})(?:-(\d{1,2}))?$/;

function checkList(field: string, name: string, max: number): string | null {
  if (field === '*') return null;
  for (const item of field.split(',')) {
    const m = ITEM.exec(item);
    if (!m) {
      return `${name}: '${item}' is not a value or a range (steps, names and '*' inside a list are not accepted)`;
    }
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (const v of [from, to]) {
      if (name === 'day-of-week' && v === 7) return `day-of-week: 7 is not accepted, Sunday is 0`;
      if (v > max) return `${name}: ${v} is out of range 0-${max}`;
    }
    if (from > to) return `${name}: range '${item}' runs backwards; split it, e.g. '${from}-${max},0-${to}'`;
  }
  return null;
}

function checkForm(fields: string[]): string | null {
  if (fields.length !== 5) {
    return `cron must have 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  }
  for (const i of [0, 2, 3]) {
    if (fields[i] !== '*') return `${FIELD_NAMES[i]} must be '*', got '${fields[i]}'`;
  }
  return checkList(fields[1], 'hour', 23) ?? checkList(fields[4], 'day-of-week', 6);
}

function compile(expression: string): CompiledCron {
  const hit = compiled.get(expression);
  if (hit) return hit;
  const trimmed = typeof expression === 'string' ? expression.trim() : '';
  const fields = trimmed === '' ? [] : trimmed.split(/\s+/);
  const pattern = `* ${fields.join(' ')}`;
  let error = checkForm(fields);
  if (error === null) {
    try {
      // The form check should make this unreachable; croner stays the authority on what parses.
      new Cron(pattern, { paused: true, mode: '6-part' });
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
  }
  return remember(compiled, expression, { error, pattern });
}

/** Why `expression` is not an accepted schedule cron, or null when it is. */
export function validateScheduleCron(expression: string): string | null {
  return compile(expression).error;
}

/**
 * Whether `timezone` is an IANA name this runtime knows (aliases such as `UTC` or `US/Eastern` included).
 * '' and fixed offsets (`+01:00`, which newer runtimes accept) are rejected: a preset names a place.
 */
export function isValidTimezone(timezone: string): boolean {
  const hit = timezones.get(timezone);
  if (hit !== undefined) return hit;
  let valid = typeof timezone === 'string' && timezone !== '' && !/^[+-]/.test(timezone);
  if (valid) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    } catch {
      valid = false;
    }
  }
  return remember(timezones, timezone, valid);
}

function matcherFor(entry: CompiledCron, timezone: string): Matcher {
  const key = `${timezone}\u0000${entry.pattern}`;
  const hit = matchers.get(key);
  if (hit) return hit;
  const cron = new Cron(entry.pattern, { paused: true, mode: '6-part', timezone });
  return remember(matchers, key, { cron, lastAtMs: Number.NaN, lastResult: false });
}

function matchAt(entry: CompiledCron, atMs: number, timezone: string): boolean {
  const m = matcherFor(entry, timezone);
  if (m.lastAtMs !== atMs) {
    m.lastResult = m.cron.match(new Date(atMs));
    m.lastAtMs = atMs;
  }
  return m.lastResult;
}

/**
 * Whether `at`, read in `timezone`, falls in a minute the schedule cron matches. False (never a throw) for a
 * cron that breaks the form or an invalid time zone, so stored rows can never stop a cycle.
 */
export function matchesCron(cronExpression: string, at: Date, timezone = 'UTC'): boolean {
  const entry = compile(cronExpression);
  if (entry.error !== null || !isValidTimezone(timezone)) return false;
  return matchAt(entry, at.getTime(), timezone);
}

/** Sunday 2024-01-07 00:00 UTC: the week the hour-of-week masks are read in. */
const REFERENCE_SUNDAY_MS = Date.UTC(2024, 0, 7);
const HOUR_MS = 3_600_000;

/**
 * The hours of the week the cron matches. Every form-valid cron matches whole hours, so probing the middle of
 * each hour of one week in UTC is exact; the time zone is irrelevant because all schedules of a preset share it.
 */
function weekMask(entry: CompiledCron): bigint {
  if (entry.weekMask === undefined) {
    let mask = 0n;
    for (let h = 0; h < 168; h++) {
      if (matchAt(entry, REFERENCE_SUNDAY_MS + h * HOUR_MS + HOUR_MS / 2, 'UTC')) mask |= 1n << BigInt(h);
    }
    entry.weekMask = mask;
  }
  return entry.weekMask;
}

/** Whether some hour of the week is matched by two of the crons; crons that break the form are ignored. */
export function schedulesOverlap(cronExpressions: readonly string[]): boolean {
  let seen = 0n;
  for (const expression of cronExpressions) {
    const entry = compile(expression);
    if (entry.error !== null) continue;
    const mask = weekMask(entry);
    if ((seen & mask) !== 0n) return true;
    seen |= mask;
  }
  return false;
}
