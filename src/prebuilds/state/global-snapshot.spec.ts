import { describe, expect, it } from '@jest/globals';
import { GlobalSnapshot, UnknownPresetError } from './global-snapshot.js';
import { HOUR, MINUTE, NOW, presetRow, runningRow, shift, snapshotInput } from './snapshot.fixture.js';
import type { ReconciliationAction } from './types.js';

describe('GlobalSnapshot', () => {
  it('throws a typed error for a preset it did not read', () => {
    const snapshot = new GlobalSnapshot(snapshotInput());
    expect(() => snapshot.filterByPreset('nope')).toThrow(UnknownPresetError);
    expect(() => snapshot.filterByPreset('nope')).toThrow('preset nope is not in the snapshot');
  });

  it('lists presets in snapshot order and hands out one slice per preset', () => {
    const snapshot = new GlobalSnapshot(
      snapshotInput({ presets: [presetRow({ presetId: 'b' }), presetRow({ presetId: 'a' })] }),
    );
    expect(snapshot.presetIds()).toEqual(['b', 'a']);
    expect(snapshot.presets.map((p) => p.presetId)).toEqual(['b', 'a']);
    expect(snapshot.hasPreset('a')).toBe(true);
    expect(snapshot.hasPreset('c')).toBe(false);
    expect(snapshot.filterByPreset('a')).toBe(snapshot.filterByPreset('a'));
    expect(snapshot.presetSnapshots().map((s) => s.presetId)).toEqual(['b', 'a']);
  });

  it('reads a preset list it has seen before afresh when the list changed in place', () => {
    // A steady catalog hands every cycle the same list object, so the snapshot keeps its index of that list.
    const list = [presetRow({ presetId: 'a' }), presetRow({ presetId: 'b' })];
    const running = [runningRow('wa', { presetId: 'a' }), runningRow('wc', { presetId: 'c' })];
    const first = new GlobalSnapshot(snapshotInput({ presets: list, running }));
    expect(first.filterByPreset('a').running.map((r) => r.workspaceId)).toEqual(['wa']);
    expect(new GlobalSnapshot(snapshotInput({ presets: list, running })).presetIds()).toEqual(['a', 'b']);

    list[0] = presetRow({ presetId: 'c', desiredInstances: 4 });
    const replaced = new GlobalSnapshot(snapshotInput({ presets: list, running }));
    expect(replaced.presetIds()).toEqual(['c', 'b']);
    expect(() => replaced.filterByPreset('a')).toThrow(UnknownPresetError);
    expect(replaced.filterByPreset('c').running.map((r) => r.workspaceId)).toEqual(['wc']);
    expect(replaced.filterByPreset('c').desiredInstances(NOW)).toBe(4);

    list.push(presetRow({ presetId: 'a' }));
    expect(new GlobalSnapshot(snapshotInput({ presets: list, running })).presetIds()).toEqual([
      'c',
      'b',
      'a',
    ]);
    // A row edited in place keeps its slot and is read as it is now.
    list[1].desiredInstances = 7;
    expect(
      new GlobalSnapshot(snapshotInput({ presets: list, running })).filterByPreset('b').desiredInstances(NOW),
    ).toBe(7);
  });

  it('gives each preset only its own rows', () => {
    const snapshot = new GlobalSnapshot(
      snapshotInput({
        presets: [presetRow({ presetId: 'a' }), presetRow({ presetId: 'b' })],
        schedules: [{ presetId: 'b', cronExpression: '* * * * *', desiredInstances: 1 }],
        running: [
          runningRow('wa', { presetId: 'a' }),
          runningRow('wb', { presetId: 'b' }),
          runningRow('wn', { presetId: null }),
          runningRow('wx', { presetId: 'unknown' }),
        ],
        inProgress: [
          { presetId: 'a', templateId: 't1', templateVersionId: 'v1', transition: 'stop', count: 2 },
        ],
        pendingNonActive: [
          { presetId: 'b', count: 1 },
          { presetId: 'b', count: 2 },
        ],
        backoffs: [{ presetId: 'a', numFailed: 1, lastFailedAt: NOW }],
        hardLimitedPresetIds: ['b'],
      }),
    );
    const a = snapshot.filterByPreset('a');
    const b = snapshot.filterByPreset('b');
    expect([a.running.map((r) => r.workspaceId), b.running.map((r) => r.workspaceId)]).toEqual([
      ['wa'],
      ['wb'],
    ]);
    expect([a.schedules.length, b.schedules.length]).toEqual([0, 1]);
    expect([a.inProgress.stopping, b.inProgress.stopping]).toEqual([2, 0]);
    expect([a.pendingCount, b.pendingCount]).toEqual([0, 3]);
    expect([a.backoff?.numFailed, b.backoff]).toEqual([1, null]);
    expect([a.hardLimited, b.hardLimited]).toEqual([false, true]);
  });

  it('keeps the later failure when a preset has two backoff rows', () => {
    const later = { presetId: 'p1', numFailed: 1, lastFailedAt: NOW };
    const earlier = { presetId: 'p1', numFailed: 4, lastFailedAt: shift(NOW, -HOUR) };
    const snapshot = new GlobalSnapshot(snapshotInput({ backoffs: [later, earlier] }));
    expect(snapshot.filterByPreset('p1').backoff).toBe(later);
  });
});

describe('several presets in one snapshot', () => {
  it('treats presets of one version independently', () => {
    const snapshot = new GlobalSnapshot(
      snapshotInput({
        presets: [
          presetRow({ presetId: 'small', desiredInstances: 1 }),
          presetRow({ presetId: 'large', desiredInstances: 3 }),
          presetRow({ presetId: 'none', desiredInstances: null }),
        ],
        running: [
          runningRow('s1', { presetId: 'small' }),
          runningRow('s2', { presetId: 'small', createdAt: shift(NOW, -2 * HOUR) }),
          runningRow('l1', { presetId: 'large' }),
        ],
        inProgress: [
          { presetId: 'large', templateId: 't1', templateVersionId: 'v1', transition: 'start', count: 1 },
        ],
      }),
    );
    const plan = Object.fromEntries(
      snapshot.presetIds().map((id) => [id, snapshot.filterByPreset(id).calculateActions(NOW, MINUTE)]),
    );
    const expected: Record<string, ReconciliationAction[]> = {
      small: [{ type: 'delete', workspaceIds: ['s2'] }],
      large: [{ type: 'create', count: 1 }],
      none: [],
    };
    expect(plan).toEqual(expected);
  });

  it("deletes every prebuild of the old version, expired too, while filling the new version's preset", () => {
    const snapshot = new GlobalSnapshot(
      snapshotInput({
        presets: [
          presetRow({
            presetId: 'old',
            templateVersionId: 'v1',
            usingActiveVersion: false,
            ttlSeconds: 3600,
          }),
          presetRow({ presetId: 'new', templateVersionId: 'v2', desiredInstances: 2, ttlSeconds: 3600 }),
        ],
        running: [
          runningRow('o-fresh', { presetId: 'old', createdAt: shift(NOW, -MINUTE) }),
          runningRow('o-expired', { presetId: 'old', createdAt: shift(NOW, -2 * HOUR) }),
        ],
        pendingNonActive: [{ presetId: 'old', count: 1 }],
      }),
    );
    expect(snapshot.filterByPreset('old').calculateActions(NOW, MINUTE)).toEqual([
      { type: 'cancel_pending' },
      { type: 'delete', workspaceIds: ['o-expired', 'o-fresh'] },
    ]);
    expect(snapshot.filterByPreset('new').calculateActions(NOW, MINUTE)).toEqual([
      { type: 'create', count: 2 },
    ]);
  });
});
