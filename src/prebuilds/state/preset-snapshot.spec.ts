import { describe, expect, it } from '@jest/globals';
import { PresetSnapshot } from './preset-snapshot.js';
import { HOUR, MINUTE, NOW, presetRow, runningRow, shift, sliceOf } from './snapshot.fixture.js';
import type {
  InProgressRow,
  PresetRow,
  ReconciliationState,
  RunningPrebuildRow,
  Transition,
} from './types.js';

function inProgress(transition: Transition, count: number, presetId = 'p1'): InProgressRow {
  return { presetId, templateId: 't1', templateVersionId: 'v1', transition, count };
}

describe('activity (rule 1)', () => {
  it.each<[string, Partial<PresetRow>, boolean]>([
    ['active version of a live template', {}, true],
    ['old version', { usingActiveVersion: false }, false],
    ['deleted template', { templateDeleted: true }, false],
    ['deprecated template', { templateDeprecated: true }, false],
    ['old version of a deleted template', { usingActiveVersion: false, templateDeleted: true }, false],
  ])('%s → active=%s', (_name, overrides, active) => {
    expect(sliceOf({ presets: [presetRow(overrides)] }).isActive()).toBe(active);
  });
});

describe('expiry (rule 3)', () => {
  // [name, preset overrides, age of the prebuild at NOW in ms, expired]
  it.each<[string, Partial<PresetRow>, number, boolean]>([
    ['no TTL, no invalidation', {}, 1000 * HOUR, false],
    ['TTL 0 means none', { ttlSeconds: 0 }, 1000 * HOUR, false],
    ['negative TTL means none', { ttlSeconds: -5 }, 1000 * HOUR, false],
    ['age below TTL', { ttlSeconds: 3600 }, HOUR - 1, false],
    ['age exactly TTL is not expired', { ttlSeconds: 3600 }, HOUR, false],
    ['age 1 ms over TTL', { ttlSeconds: 3600 }, HOUR + 1, true],
    ['created 1 ms before invalidation', { lastInvalidatedAt: shift(NOW, -MINUTE + 1) }, MINUTE, true],
    ['created exactly at invalidation', { lastInvalidatedAt: shift(NOW, -MINUTE) }, MINUTE, false],
    ['created after invalidation', { lastInvalidatedAt: shift(NOW, -HOUR) }, MINUTE, false],
    [
      'invalidation ok but TTL passed',
      { lastInvalidatedAt: shift(NOW, -HOUR), ttlSeconds: 30 },
      MINUTE,
      true,
    ],
  ])('%s → expired=%s', (_name, overrides, age, expired) => {
    const row = runningRow('w1', { createdAt: shift(NOW, -age) });
    const slice = sliceOf({ presets: [presetRow({ desiredInstances: 1, ...overrides })], running: [row] });
    expect(slice.isExpired(row, NOW)).toBe(expired);
    expect(slice.calculateState(NOW).expired).toBe(expired ? 1 : 0);
  });

  it('uses the given now, not the wall clock', () => {
    const row = runningRow('w1', { createdAt: new Date('2020-01-01T00:00:00Z') });
    const slice = sliceOf({ presets: [presetRow({ ttlSeconds: 60 })], running: [row] });
    expect(slice.isExpired(row, new Date('2020-01-01T00:01:00Z'))).toBe(false);
    expect(slice.isExpired(row, new Date('2020-01-01T00:01:00.001Z'))).toBe(true);
  });
});

const fresh = (id: string, ready = true): RunningPrebuildRow =>
  runningRow(id, { ready, createdAt: shift(NOW, -MINUTE) });
const stale = (id: string, ready = true): RunningPrebuildRow =>
  runningRow(id, { ready, createdAt: shift(NOW, -2 * HOUR) });
const zero: ReconciliationState = {
  desired: 0,
  actual: 0,
  eligible: 0,
  extraneous: 0,
  expired: 0,
  starting: 0,
  stopping: 0,
  deleting: 0,
};

describe('state (rule 4)', () => {
  // Prebuilds made by `stale` are expired: the preset's TTL is one hour.
  it.each<[string, Partial<PresetRow>, RunningPrebuildRow[], InProgressRow[], Partial<ReconciliationState>]>([
    ['nothing at all', {}, [], [], {}],
    [
      'actual counts expired, eligible counts fresh ready ones only',
      { desiredInstances: 3 },
      [fresh('a'), fresh('b'), fresh('c', false), stale('d')],
      [],
      { desired: 3, actual: 4, expired: 1, eligible: 2 },
    ],
    [
      'extraneous = running − expired − desired',
      { desiredInstances: 1 },
      [fresh('a'), fresh('b'), fresh('c'), stale('d')],
      [],
      { desired: 1, actual: 4, expired: 1, eligible: 3, extraneous: 2 },
    ],
    [
      'extraneous never below 0',
      { desiredInstances: 5 },
      [fresh('a'), stale('b')],
      [],
      { desired: 5, actual: 2, expired: 1, eligible: 1 },
    ],
    [
      'inactive: desired, eligible and extraneous are 0',
      { desiredInstances: 1, usingActiveVersion: false },
      [fresh('a'), fresh('b'), stale('c')],
      [],
      { actual: 3, expired: 1 },
    ],
    [
      'in-progress rows are summed per transition',
      { desiredInstances: 2 },
      [],
      [inProgress('start', 2), inProgress('start', 1), inProgress('stop', 4), inProgress('delete', 5)],
      { desired: 2, starting: 3, stopping: 4, deleting: 5 },
    ],
    [
      "another preset's rows do not count",
      { desiredInstances: 2 },
      [runningRow('x', { presetId: 'p2' }), runningRow('y', { presetId: null })],
      [inProgress('start', 2, 'p2')],
      { desired: 2 },
    ],
  ])('%s', (_name, overrides, running, rows, expected) => {
    const slice = sliceOf({
      presets: [presetRow({ ttlSeconds: 3600, ...overrides }), presetRow({ presetId: 'p2' })],
      running,
      inProgress: rows,
    });
    expect(slice.calculateState(NOW)).toEqual({ ...zero, ...expected });
  });

  it('splits running prebuilds into fresh and expired at now', () => {
    const slice = sliceOf({
      presets: [presetRow({ ttlSeconds: 3600 })],
      running: [stale('a'), fresh('b'), stale('c')],
    });
    expect(slice.expiredPrebuilds(NOW).map((r) => r.workspaceId)).toEqual(['a', 'c']);
    expect(slice.freshPrebuilds(NOW).map((r) => r.workspaceId)).toEqual(['b']);
    expect(slice.freshPrebuilds(shift(NOW, 2 * HOUR)).map((r) => r.workspaceId)).toEqual([]);
  });
});

describe('canSkipReconciliation', () => {
  it.each<[string, Partial<PresetRow>, RunningPrebuildRow[], number, boolean]>([
    ['inactive with nothing left', { usingActiveVersion: false }, [], 0, true],
    ['active, even with nothing', {}, [], 0, false],
    ['active preset that wants nothing', { desiredInstances: null }, [], 0, false],
    ['inactive with a running prebuild', { usingActiveVersion: false }, [fresh('a')], 0, false],
    [
      'inactive with only an expired prebuild',
      { usingActiveVersion: false, ttlSeconds: 60 },
      [stale('a')],
      0,
      false,
    ],
    ['inactive with a pending build to cancel', { templateDeleted: true }, [], 2, false],
  ])('%s → %s', (_name, overrides, running, pending, skip) => {
    const slice = sliceOf({
      presets: [presetRow(overrides)],
      running,
      pendingNonActive: pending > 0 ? [{ presetId: 'p1', count: pending }] : [],
    });
    expect(slice.canSkipReconciliation()).toBe(skip);
    if (skip) expect(slice.calculateActions(NOW, MINUTE)).toEqual([]);
  });
});

describe('PresetSnapshot built directly from rows', () => {
  it('computes like a slice of a GlobalSnapshot', () => {
    const running = [fresh('b'), stale('a'), fresh('c', false)];
    const direct = new PresetSnapshot({
      preset: presetRow({ desiredInstances: 1, ttlSeconds: 3600 }),
      schedules: [],
      running,
      inProgress: { starting: 0, stopping: 0, deleting: 0 },
      pendingCount: 0,
      backoff: null,
      hardLimited: false,
    });
    const viaGlobal = sliceOf({ presets: [presetRow({ desiredInstances: 1, ttlSeconds: 3600 })], running });
    expect(direct.running).toEqual(running);
    expect(direct.calculateState(NOW)).toEqual(viaGlobal.calculateState(NOW));
    expect(direct.calculateActions(NOW, MINUTE)).toEqual(viaGlobal.calculateActions(NOW, MINUTE));
    expect(direct.calculateActions(NOW, MINUTE)).toEqual([
      { type: 'delete', workspaceIds: ['a'] },
      { type: 'delete', workspaceIds: ['c'] },
    ]);
  });
});
