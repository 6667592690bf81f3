import { describe, expect, it } from '@jest/globals';
import { isValidTimezone, matchesCron, schedulesOverlap, validateScheduleCron } from './cron-schedule.js';

describe('validateScheduleCron: the accepted form', () => {
  it.each([
    ['* * * * *'],
    ['* 9-18 * * 1-5'],
    ['* 9 * * 0'],
    ['* 0-5,22-23 * * 6,0'],
    ['* 09 * * *'],
    ['  * 9-18  * * *  '],
  ])('accepts %j', (cron) => {
    expect(validateScheduleCron(cron)).toBeNull();
  });

  it.each([
    ['', '5 fields'],
    ['* * * *', '5 fields'],
    ['0 * * * * *', '5 fields'],
    ['0 9 * * *', "minute must be '*'"],
    ['*/5 9 * * *', "minute must be '*'"],
    ['* 9 1 * *', "day-of-month must be '*'"],
    ['* 9 * 1 *', "month must be '*'"],
    ['* 24 * * *', 'out of range 0-23'],
    ['* 9-24 * * *', 'out of range 0-23'],
    ['* * * * 7', 'Sunday is 0'],
    ['* * * * 1-7', 'Sunday is 0'],
    ['* * * * MON', 'not a value or a range'],
    ['* */2 * * *', 'not a value or a range'],
    ['* 9-18,* * * *', 'not a value or a range'],
    ['* 1,,2 * * *', 'not a value or a range'],
    ['* -1 * * *', 'not a value or a range'],
    ['* * * * ?', 'not a value or a range'],
    ['* * * * 1#2', 'not a value or a range'],
    ['* 18-9 * * *', 'runs backwards'],
  ])('rejects %j (%s)', (cron, message) => {
    expect(validateScheduleCron(cron)).toContain(message);
  });
});

describe('isValidTimezone', () => {
  it.each([
    ['UTC', true],
    ['America/New_York', true],
    ['Europe/Berlin', true],
    ['', false],
    ['Not/A_Zone', false],
    ['+01:00', false],
    ['-05:00', false],
  ])('%j → %s', (tz, valid) => {
    expect(isValidTimezone(tz)).toBe(valid);
  });
});

describe('matchesCron', () => {
  // [cron, instant, time zone, expected, why]
  const cases: [string, string, string, boolean, string][] = [
    ['* 9-18 * * *', '2024-06-03T08:59:59.999Z', 'UTC', false, 'just before the range'],
    ['* 9-18 * * *', '2024-06-03T09:00:00.000Z', 'UTC', true, 'range start'],
    ['* 9-18 * * *', '2024-06-03T18:59:59.000Z', 'UTC', true, 'last second of the last hour'],
    ['* 9-18 * * *', '2024-06-03T18:59:59.999Z', 'UTC', true, 'last millisecond of the last hour'],
    ['* 9-18 * * *', '2024-06-03T19:00:00.000Z', 'UTC', false, 'the hour after the range'],
    ['* 8,12-13 * * *', '2024-06-03T12:30:00Z', 'UTC', true, 'list with a range'],
    ['* 8,12-13 * * *', '2024-06-03T10:30:00Z', 'UTC', false, 'between list items'],
    ['* * * * 0', '2024-06-02T10:00:00Z', 'UTC', true, 'Sunday is 0'],
    ['* * * * 0', '2024-06-03T10:00:00Z', 'UTC', false, 'Monday is not 0'],
    ['* * * * 6,0', '2024-06-01T10:00:00Z', 'UTC', true, 'Saturday in a weekend list'],
    ['* * * * 6,0', '2024-06-03T10:00:00Z', 'UTC', false, 'Monday not in a weekend list'],
    ['* * * * 1-5', '2024-06-07T23:59:59Z', 'UTC', true, 'Friday in 1-5'],
    ['* * * * 1-5', '2024-06-08T00:00:00Z', 'UTC', false, 'Saturday not in 1-5'],
    ['* * * * *', '2024-06-08T00:00:00Z', 'UTC', true, 'always'],
    // America/New_York: EST (UTC-5) until 2024-03-10 07:00Z, then EDT (UTC-4) until 2024-11-03 06:00Z.
    ['* 9-18 * * *', '2024-03-09T14:00:00Z', 'America/New_York', true, '09:00 EST'],
    ['* 9-18 * * *', '2024-03-09T13:59:59Z', 'America/New_York', false, '08:59:59 EST'],
    ['* 9-18 * * *', '2024-03-11T13:00:00Z', 'America/New_York', true, '09:00 EDT, the day after the switch'],
    ['* 9-18 * * *', '2024-03-11T12:59:59Z', 'America/New_York', false, '08:59:59 EDT'],
    ['* 9-18 * * *', '2024-03-11T22:59:59Z', 'America/New_York', true, '18:59:59 EDT'],
    ['* 9-18 * * *', '2024-03-11T23:00:00Z', 'America/New_York', false, '19:00 EDT'],
    ['* 2 * * *', '2024-03-10T06:59:59Z', 'America/New_York', false, '01:59:59 EST, before the gap'],
    ['* 2 * * *', '2024-03-10T07:00:00Z', 'America/New_York', false, '02:00 is skipped: 03:00 EDT'],
    ['* 3 * * *', '2024-03-10T07:00:00Z', 'America/New_York', true, '03:00 EDT right after the gap'],
    ['* 1 * * *', '2024-11-03T04:59:59Z', 'America/New_York', false, '00:59:59 EDT'],
    ['* 1 * * *', '2024-11-03T05:00:00Z', 'America/New_York', true, 'first 01:00 (EDT)'],
    ['* 1 * * *', '2024-11-03T06:00:00Z', 'America/New_York', true, 'second 01:00 (EST)'],
    ['* 1 * * *', '2024-11-03T06:59:59Z', 'America/New_York', true, 'end of the repeated hour'],
    ['* 1 * * *', '2024-11-03T07:00:00Z', 'America/New_York', false, '02:00 EST'],
    ['* * * * 0', '2024-03-11T03:00:00Z', 'America/New_York', true, 'still Sunday 23:00 in New York'],
    ['* * * * 0', '2024-03-11T03:00:00Z', 'UTC', false, 'already Monday in UTC'],
    // Europe/Berlin: CEST from 2024-03-31 01:00Z to 2024-10-27 01:00Z.
    ['* 2 * * *', '2024-03-31T00:59:59Z', 'Europe/Berlin', false, '01:59:59 CET, before the gap'],
    ['* 2 * * *', '2024-03-31T01:00:00Z', 'Europe/Berlin', false, '02:00 is skipped: 03:00 CEST'],
    ['* 3 * * *', '2024-03-31T01:00:00Z', 'Europe/Berlin', true, '03:00 CEST'],
    ['* 2 * * *', '2024-10-27T00:00:00Z', 'Europe/Berlin', true, 'first 02:00 (CEST)'],
    ['* 2 * * *', '2024-10-27T01:00:00Z', 'Europe/Berlin', true, 'second 02:00 (CET)'],
    ['* 2 * * *', '2024-10-27T02:00:00Z', 'Europe/Berlin', false, '03:00 CET'],
    ['* 9-18 * * 1-5', '2024-10-25T07:00:00Z', 'Europe/Berlin', true, 'Friday 09:00 CEST'],
    ['* 9-18 * * 1-5', '2024-10-25T06:59:59Z', 'Europe/Berlin', false, 'Friday 08:59:59 CEST'],
    ['* 9-18 * * 1-5', '2024-10-28T08:00:00Z', 'Europe/Berlin', true, 'Monday 09:00 CET'],
    ['* 9-18 * * 1-5', '2024-10-28T07:59:59Z', 'Europe/Berlin', false, 'Monday 08:59:59 CET'],
    // Never a throw on bad input: the engine reads stored rows it must tolerate.
    ['0 9 * * *', '2024-06-03T09:00:00Z', 'UTC', false, 'minute not *'],
    ['not a cron', '2024-06-03T09:00:00Z', 'UTC', false, 'unparseable'],
    ['* 9 * * *', '2024-06-03T09:00:00Z', 'Not/A_Zone', false, 'unknown time zone'],
    ['* 9 * * *', '2024-06-03T09:00:00Z', '', false, 'no time zone'],
  ];
  it.each(cases)('%j at %s in %s → %s (%s)', (cron, iso, tz, expected) => {
    expect(matchesCron(cron, new Date(iso), tz)).toBe(expected);
  });

  it('reads the instant in UTC when no time zone is given', () => {
    expect(matchesCron('* 9 * * *', new Date('2024-06-03T09:30:00Z'))).toBe(true);
    expect(matchesCron('* 9 * * *', new Date('2024-06-03T10:30:00Z'))).toBe(false);
  });

  it('answers for the instant asked even when asked repeatedly', () => {
    const answers = ['09:30', '10:30', '09:45', '09:45'].map((t) =>
      matchesCron('* 9 * * *', new Date(`2024-06-03T${t}:00Z`), 'UTC'),
    );
    expect(answers).toEqual([true, false, true, true]);
  });
});

describe('schedulesOverlap', () => {
  it.each<[string[], boolean, string]>([
    [[], false, 'no schedules'],
    [['* 9-18 * * 1-5'], false, 'one schedule'],
    [['* 9-12 * * 1-5', '* 13-18 * * 1-5'], false, 'adjacent hours'],
    [['* 9-12 * * 1-5', '* 12-18 * * 1-5'], true, 'hour 12 on weekdays in both'],
    [['* 9-18 * * 1-5', '* 9-18 * * 6,0'], false, 'weekdays vs weekend'],
    [['* * * * *', '* 3 * * 0'], true, 'all week contains Sunday 03:00'],
    [['* 9 * * 1', '* 9 * * 1'], true, 'the same schedule twice'],
    [['* 0-8 * * *', '* 19-23 * * *', '* 9-18 * * 0'], false, 'three disjoint'],
    [['* 0-8 * * *', '* 19-23 * * *', '* 8-9 * * 0'], true, 'third overlaps the first'],
    [['* 9 * * 1', 'garbage', '* * * * 7'], false, 'invalid ones are ignored'],
  ])('%j → %s (%s)', (crons, expected) => {
    expect(schedulesOverlap(crons)).toBe(expected);
  });
});
