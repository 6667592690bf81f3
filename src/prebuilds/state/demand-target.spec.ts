import { describe, expect, it } from '@jest/globals';
import { GlobalSnapshot } from './global-snapshot.js';
import { NO_DEMAND, type DemandRow } from './demand.js';
import { NOW, presetRow, runningRow, snapshotInput, sliceOf } from './snapshot.fixture.js';
import type { PresetRow } from './types.js';

const demand = (claims10m: number, misses10m = 0): DemandRow => ({
  presetId: 'p1',
  claims: { ...NO_DEMAND, '10m': claims10m },
  misses: { ...NO_DEMAND, '10m': misses10m },
});

const withExpression = (expression: string, overrides: Partial<PresetRow> = {}) =>
  presetRow({ desiredInstances: 1, desiredInstancesExpression: expression, ...overrides });

describe('a preset with a target expression (DESIGN.md rule 12)', () => {
  it('sizes the pool from the claims of the window and creates what is missing', () => {
    const slice = sliceOf({
      presets: [withExpression('claims_10m + 2')],
      running: [runningRow('w1')],
      demand: [demand(3)],
    });
    expect(slice.desiredInstances(NOW)).toBe(5);
    expect(slice.desiredSource(NOW)).toBe('expression');
    expect(slice.expressionOutcome(NOW)).toEqual({
      expression: 'claims_10m + 2',
      value: 5,
      error: null,
      scheduledTarget: 1,
      scheduledSource: 'base',
    });
    expect(slice.calculateActions(NOW, 60_000)).toEqual([{ type: 'create', count: 4 }]);
  });

  it('shrinks when claims stop: prebuilds above the target are extraneous', () => {
    const running = ['w1', 'w2', 'w3'].map((id) => runningRow(id));
    const slice = sliceOf({ presets: [withExpression('claims_10m + 1')], running, demand: [] });
    expect(slice.calculateState(NOW)).toMatchObject({ desired: 1, extraneous: 2 });
  });

  it('sees the same counts the state reports', () => {
    const slice = sliceOf({
      presets: [withExpression('running * 100 + eligible * 10 + starting')],
      running: [runningRow('w1'), runningRow('w2', { ready: false })],
      inProgress: [
        { presetId: 'p1', templateId: 't1', templateVersionId: 'v1', transition: 'start', count: 3 },
      ],
    });
    expect(slice.expressionOutcome(NOW)?.value).toBe(213);
  });

  it('clamps to [0, maxInstancesPerPreset] and says which cap clamped', () => {
    const input = snapshotInput({ presets: [withExpression('claims_10m * 100')], demand: [demand(4)] });
    const capped = new GlobalSnapshot(input, { maxInstancesPerPreset: 25 }).filterByPreset('p1');
    expect(capped.desiredInstances(NOW)).toBe(25);
    expect(capped.uncappedDesiredInstances(NOW)).toBe(400);
    expect(capped.desiredCappedBy(NOW)).toBe('maxInstancesPerPreset');
    expect(capped.expressionOutcome(NOW)?.value).toBe(400);

    const negative = sliceOf({ presets: [withExpression('base - 5')] });
    expect(negative.desiredInstances(NOW)).toBe(0);
    expect(negative.expressionOutcome(NOW)?.value).toBe(-4);
  });

  it('falls back to the scheduled target when it fails, and says why', () => {
    const slice = sliceOf({
      presets: [withExpression('base / eligible', { desiredInstances: 2 })],
      running: [],
    });
    expect(slice.desiredInstances(NOW)).toBe(2);
    expect(slice.desiredSource(NOW)).toBe('base');
    expect(slice.expressionOutcome(NOW)).toMatchObject({ value: null, error: 'division by zero' });
  });

  it('falls back to the matching schedule, not the base count', () => {
    const slice = sliceOf({
      presets: [withExpression('claims_10m +', { schedulingTimezone: 'UTC' })],
      schedules: [{ presetId: 'p1', cronExpression: '* 9-17 * * *', desiredInstances: 4 }],
    });
    expect(slice.desiredInstances(NOW)).toBe(4);
    expect(slice.desiredSource(NOW)).toBe('* 9-17 * * *');
    expect(slice.expressionOutcome(NOW)?.error).toMatch(/^Unexpected token: EOF \(line 1, column 13\)/);
  });

  it('reads hour and weekday in the preset time zone (NOW is Monday 12:00 UTC)', () => {
    const at = (timezone: string) =>
      sliceOf({
        presets: [withExpression('hour * 10 + weekday', { schedulingTimezone: timezone })],
      }).expressionOutcome(NOW)?.value;
    expect(at('')).toBe(121);
    expect(at('Asia/Tokyo')).toBe(211);
    expect(at('Pacific/Honolulu')).toBe(21);
  });

  it('is not evaluated for an inactive preset, which wants nothing', () => {
    const slice = sliceOf({ presets: [withExpression('100', { usingActiveVersion: false })] });
    expect(slice.desiredInstances(NOW)).toBe(0);
    expect(slice.expressionOutcome(NOW)).toBeNull();
  });

  it('treats a blank expression as none', () => {
    const slice = sliceOf({ presets: [withExpression('  ', { desiredInstances: 2 })] });
    expect(slice.desiredSource(NOW)).toBe('base');
    expect(slice.expressionOutcome(NOW)).toBeNull();
  });
});
