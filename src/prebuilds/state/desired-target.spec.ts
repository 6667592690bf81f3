import { describe, expect, it } from '@jest/globals';
import { presetRow, sliceOf } from './snapshot.fixture.js';
import type { PresetRow } from './types.js';

const WEEKDAYS = '* 9-18 * * 1-5';
const MON_NOON = '2024-06-03T12:00:00Z';
const SAT_NOON = '2024-06-01T12:00:00Z';

interface Case {
  name: string;
  preset?: Partial<PresetRow>;
  /** [cron, desired] in the order the snapshot gives them. */
  schedules?: [string, number][];
  at: string;
  desired: number;
  source: string;
}

// DESIGN.md rule 2. Unless a case says otherwise the preset wants 3 and lives in UTC.
const cases: Case[] = [
  { name: 'no schedules: the base count', at: MON_NOON, desired: 3, source: 'base' },
  {
    name: 'NULL base count reads as 0',
    preset: { desiredInstances: null },
    at: MON_NOON,
    desired: 0,
    source: 'base',
  },
  {
    name: 'negative base count reads as 0',
    preset: { desiredInstances: -2 },
    at: MON_NOON,
    desired: 0,
    source: 'base',
  },
  { name: 'a matching schedule', schedules: [[WEEKDAYS, 5]], at: MON_NOON, desired: 5, source: WEEKDAYS },
  { name: 'no schedule matches', schedules: [[WEEKDAYS, 5]], at: SAT_NOON, desired: 3, source: 'base' },
  { name: 'a schedule may want 0', schedules: [[WEEKDAYS, 0]], at: MON_NOON, desired: 0, source: WEEKDAYS },
  {
    name: 'the matching one among several',
    schedules: [
      ['* 0-8 * * *', 1],
      [WEEKDAYS, 5],
      ['* 9-18 * * 6,0', 2],
    ],
    at: SAT_NOON,
    desired: 2,
    source: '* 9-18 * * 6,0',
  },
  {
    name: 'hour range end 18:59:59 matches',
    schedules: [[WEEKDAYS, 5]],
    at: '2024-06-03T18:59:59Z',
    desired: 5,
    source: WEEKDAYS,
  },
  {
    name: 'hour range end 19:00:00 does not',
    schedules: [[WEEKDAYS, 5]],
    at: '2024-06-03T19:00:00Z',
    desired: 3,
    source: 'base',
  },
  {
    name: 'Sunday is 0',
    schedules: [['* * * * 0', 7]],
    at: '2024-06-02T12:00:00Z',
    desired: 7,
    source: '* * * * 0',
  },
  {
    name: 'no time zone: base',
    preset: { schedulingTimezone: '' },
    schedules: [[WEEKDAYS, 5]],
    at: MON_NOON,
    desired: 3,
    source: 'base',
  },
  {
    name: 'unknown time zone: base',
    preset: { schedulingTimezone: 'Mars/Olympus_Mons' },
    schedules: [[WEEKDAYS, 5]],
    at: MON_NOON,
    desired: 3,
    source: 'base',
  },
  {
    name: 'overlapping schedules: base, even though one matches',
    schedules: [
      [WEEKDAYS, 5],
      ['* 12 * * 1', 9],
    ],
    at: MON_NOON,
    desired: 3,
    source: 'base',
  },
  {
    name: 'an unparseable cron is skipped, the others apply',
    schedules: [
      ['every weekday', 9],
      [WEEKDAYS, 5],
    ],
    at: MON_NOON,
    desired: 5,
    source: WEEKDAYS,
  },
  {
    name: 'a cron breaking the form is skipped even when it would match',
    schedules: [
      ['0 12 * * *', 9],
      ['* 12 * * 1', 4],
    ],
    at: MON_NOON,
    desired: 4,
    source: '* 12 * * 1',
  },
  {
    name: 'an ignored cron cannot cause an overlap',
    schedules: [
      ['* * * * 7', 9],
      ['* 12 * * 1', 4],
    ],
    at: MON_NOON,
    desired: 4,
    source: '* 12 * * 1',
  },
  {
    name: 'inactive: 0 even when a schedule matches',
    preset: { usingActiveVersion: false },
    schedules: [[WEEKDAYS, 5]],
    at: MON_NOON,
    desired: 0,
    source: 'base',
  },
  // America/New_York switches to EDT on 2024-03-10 and back to EST on 2024-11-03.
  ...dst('America/New_York', '2024-03-08T14:00:00Z', '2024-03-08T13:59:59Z', 'Friday 09:00 EST'),
  ...dst('America/New_York', '2024-03-11T13:00:00Z', '2024-03-11T12:59:59Z', 'Monday 09:00 EDT'),
  ...dst('America/New_York', '2024-11-04T14:00:00Z', '2024-11-04T13:59:59Z', 'Monday 09:00 EST'),
  // Europe/Berlin switches to CEST on 2024-03-31 and back to CET on 2024-10-27.
  ...dst('Europe/Berlin', '2024-03-29T08:00:00Z', '2024-03-29T07:59:59Z', 'Friday 09:00 CET'),
  ...dst('Europe/Berlin', '2024-04-01T07:00:00Z', '2024-04-01T06:59:59Z', 'Monday 09:00 CEST'),
  ...dst('Europe/Berlin', '2024-10-28T08:00:00Z', '2024-10-28T07:59:59Z', 'Monday 09:00 CET'),
  {
    name: 'Europe/Berlin: the repeated 02:00 hour matches twice',
    preset: { schedulingTimezone: 'Europe/Berlin' },
    schedules: [['* 2 * * 0', 6]],
    at: '2024-10-27T01:30:00Z',
    desired: 6,
    source: '* 2 * * 0',
  },
  {
    name: 'America/New_York: the skipped 02:00 hour never matches',
    preset: { schedulingTimezone: 'America/New_York' },
    schedules: [['* 2 * * 0', 6]],
    at: '2024-03-10T07:00:00Z',
    desired: 3,
    source: 'base',
  },
];

/** A weekday schedule in `tz`: it matches at `start` (local 09:00) and not one second before. */
function dst(tz: string, start: string, before: string, label: string): Case[] {
  const preset = { schedulingTimezone: tz };
  return [
    { name: `${tz}: ${label}`, preset, schedules: [[WEEKDAYS, 5]], at: start, desired: 5, source: WEEKDAYS },
    {
      name: `${tz}: one second before ${label}`,
      preset,
      schedules: [[WEEKDAYS, 5]],
      at: before,
      desired: 3,
      source: 'base',
    },
  ];
}

describe('desired target (rule 2)', () => {
  it.each(cases)('$name', ({ preset, schedules = [], at, desired, source }) => {
    const slice = sliceOf({
      presets: [presetRow({ desiredInstances: 3, schedulingTimezone: 'UTC', ...preset })],
      schedules: schedules.map(([cronExpression, n]) => ({
        presetId: 'p1',
        cronExpression,
        desiredInstances: n,
      })),
    });
    const now = new Date(at);
    expect(slice.desiredInstances(now)).toBe(desired);
    expect(slice.desiredSource(now)).toBe(source);
    expect(slice.calculateState(now).desired).toBe(desired);
  });

  it('follows `now` from one call to the next', () => {
    const slice = sliceOf({
      presets: [presetRow({ desiredInstances: 3, schedulingTimezone: 'UTC' })],
      schedules: [{ presetId: 'p1', cronExpression: WEEKDAYS, desiredInstances: 5 }],
    });
    const seen = [MON_NOON, SAT_NOON, MON_NOON].map((t) => slice.desiredInstances(new Date(t)));
    expect(seen).toEqual([5, 3, 5]);
  });

  it("ignores another preset's schedules", () => {
    const slice = sliceOf({
      presets: [presetRow({ desiredInstances: 3, schedulingTimezone: 'UTC' }), presetRow({ presetId: 'p2' })],
      schedules: [{ presetId: 'p2', cronExpression: WEEKDAYS, desiredInstances: 5 }],
    });
    expect(slice.desiredInstances(new Date(MON_NOON))).toBe(3);
  });
});
