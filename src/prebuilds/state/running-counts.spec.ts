import { describe, expect, it } from '@jest/globals';
import { GlobalSnapshot } from './global-snapshot.js';
import { HOUR, NOW, presetRow, runningRow, shift, snapshotInput } from './snapshot.fixture.js';
import type { PresetRow } from './types.js';

// The snapshot may read running prebuilds as counts (RunningCountRow); the engine must then say the same as from
// rows, and refuse to choose deletes it cannot name.
describe('running prebuilds read as counts', () => {
  const rows = [
    runningRow('a', { createdAt: shift(NOW, -3 * HOUR), ready: true }),
    runningRow('b', { createdAt: shift(NOW, -2 * HOUR), ready: false }),
    runningRow('c', { createdAt: shift(NOW, -1 * HOUR), ready: true }),
  ];
  const invalidated = shift(NOW, -150 * 60_000); // 'a' was created before it: expired

  it('gives the state the rows give', () => {
    for (const desiredInstances of [1, 2, 5]) {
      const preset = presetRow({ desiredInstances, lastInvalidatedAt: invalidated });
      const fromRows = new GlobalSnapshot(snapshotInput({ presets: [preset], running: rows }));
      const fromCounts = new GlobalSnapshot(
        snapshotInput({
          presets: [preset],
          running: [],
          runningCounts: [{ presetId: 'p1', running: 3, ready: 1, expired: 1 }],
        }),
      );
      expect(fromCounts.filterByPreset('p1').calculateState(NOW)).toEqual(
        fromRows.filterByPreset('p1').calculateState(NOW),
      );
    }
  });

  it('adds up a preset counted in several rows (its prebuilds at two build versions)', () => {
    const preset = presetRow({ desiredInstances: 5, lastInvalidatedAt: invalidated });
    const fromRows = new GlobalSnapshot(snapshotInput({ presets: [preset], running: rows }));
    const split = new GlobalSnapshot(
      snapshotInput({
        presets: [preset],
        running: [],
        runningCounts: [
          { presetId: 'p1', running: 2, ready: 0, expired: 1 },
          { presetId: 'p1', running: 1, ready: 1, expired: 0 },
        ],
      }),
    );
    expect(split.filterByPreset('p1').calculateState(NOW)).toEqual(
      fromRows.filterByPreset('p1').calculateState(NOW),
    );
  });

  it('asks for rows exactly where a delete or a TTL needs them, and then acts as from rows', () => {
    const counts = [{ presetId: 'p1', running: 3, ready: 2, expired: 0 }];
    const at = (overrides: Partial<PresetRow>) =>
      new GlobalSnapshot(
        snapshotInput({ presets: [presetRow(overrides)], running: [], runningCounts: counts }),
      );
    expect(at({ desiredInstances: 3 }).presetsNeedingRows(NOW)).toEqual([]);
    expect(at({ desiredInstances: 3 }).filterByPreset('p1').calculateActions(NOW, HOUR)).toEqual([]);
    expect(at({ desiredInstances: 2 }).presetsNeedingRows(NOW)).toEqual(['p1']);
    expect(at({ desiredInstances: 3, usingActiveVersion: false }).presetsNeedingRows(NOW)).toEqual(['p1']);
    expect(at({ desiredInstances: 3, ttlSeconds: 86_400 }).presetsNeedingRows(NOW)).toEqual(['p1']);

    const extraneous = at({ desiredInstances: 2 });
    expect(() => extraneous.filterByPreset('p1').calculateActions(NOW, HOUR)).toThrow('running rows');
    const withRows = extraneous.withRunningRows(['p1'], rows);
    expect(withRows.presetsNeedingRows(NOW)).toEqual([]);
    expect(withRows.filterByPreset('p1').calculateActions(NOW, HOUR)).toEqual([
      { type: 'delete', workspaceIds: ['b'] },
    ]);
  });
});
