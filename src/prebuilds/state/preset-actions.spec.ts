import { describe, expect, it } from '@jest/globals';
import { MINUTE, NOW, presetRow, runningRow, shift, sliceOf } from './snapshot.fixture.js';
import type {
  BackoffRow,
  InProgressRow,
  PresetRow,
  ReconciliationAction,
  RunningPrebuildRow,
  SnapshotInput,
  Transition,
} from './types.js';

const INTERVAL = MINUTE;

/** A prebuild `ageMin` minutes old; the presets below expire them after one hour. */
function pb(id: string, ageMin: number, ready = true): RunningPrebuildRow {
  return runningRow(id, { ready, createdAt: shift(NOW, -ageMin * MINUTE) });
}
function inProgress(transition: Transition, count: number): InProgressRow {
  return { presetId: 'p1', templateId: 't1', templateVersionId: 'v1', transition, count };
}
const create = (count: number): ReconciliationAction => ({ type: 'create', count });
const del = (...workspaceIds: string[]): ReconciliationAction => ({ type: 'delete', workspaceIds });
const backoff = (until: Date): ReconciliationAction => ({ type: 'backoff', until });
const cancel: ReconciliationAction = { type: 'cancel_pending' };

interface Case {
  name: string;
  preset?: Partial<PresetRow>;
  input?: Partial<Omit<SnapshotInput, 'presets'>>;
  now?: Date;
  actions: ReconciliationAction[];
}

function run(cases: Case[]): void {
  it.each(cases)('$name', ({ preset, input, now = NOW, actions }) => {
    const slice = sliceOf({ presets: [presetRow({ ttlSeconds: 3600, ...preset })], ...input });
    const got = slice.calculateActions(now, INTERVAL);
    expect(got).toEqual(actions);
    for (const a of got) {
      if (a.type === 'create') expect(a.count).toBeGreaterThan(0);
      if (a.type === 'delete') expect(a.workspaceIds.length).toBeGreaterThan(0);
    }
  });
}

describe('actions of an active preset (rule 5)', () => {
  run([
    { name: 'nothing wanted, nothing running', actions: [] },
    { name: 'NULL desired creates nothing', preset: { desiredInstances: null }, actions: [] },
    {
      name: 'exactly the desired count',
      preset: { desiredInstances: 2 },
      input: { running: [pb('a', 1), pb('b', 2)] },
      actions: [],
    },
    {
      name: 'fills up to desired',
      preset: { desiredInstances: 3 },
      input: { running: [pb('a', 1)] },
      actions: [create(2)],
    },
    {
      name: 'in-progress start builds inhibit creation',
      preset: { desiredInstances: 3 },
      input: { running: [pb('a', 1)], inProgress: [inProgress('start', 2)] },
      actions: [],
    },
    {
      name: 'in-progress start builds are subtracted',
      preset: { desiredInstances: 3 },
      input: { running: [pb('a', 1)], inProgress: [inProgress('start', 1)] },
      actions: [create(1)],
    },
    {
      name: 'stopping and deleting prebuilds do not inhibit creation',
      preset: { desiredInstances: 2 },
      input: { inProgress: [inProgress('stop', 1), inProgress('delete', 1)] },
      actions: [create(2)],
    },
    {
      name: 'more starting than desired creates nothing and deletes nothing',
      preset: { desiredInstances: 1 },
      input: { running: [pb('a', 1)], inProgress: [inProgress('start', 3)] },
      actions: [],
    },
    {
      name: 'expired ones are deleted (oldest first) and replaced',
      preset: { desiredInstances: 2 },
      input: { running: [pb('e2', 70), pb('a', 1), pb('e1', 90)] },
      actions: [del('e1', 'e2'), create(1)],
    },
    {
      name: 'extraneous: not-ready first, then oldest',
      preset: { desiredInstances: 1 },
      input: { running: [pb('old', 50), pb('young-not-ready', 1, false), pb('mid', 20)] },
      actions: [del('young-not-ready', 'old')],
    },
    {
      name: 'extraneous down to zero keeps the preference order',
      preset: { desiredInstances: 0 },
      input: { running: [pb('old', 50), pb('nr-young', 1, false), pb('mid', 20), pb('nr-old', 40, false)] },
      actions: [del('nr-old', 'nr-young', 'old', 'mid')],
    },
    {
      name: 'extraneous tie on created_at: lowest id',
      preset: { desiredInstances: 1 },
      input: { running: [pb('w2', 5), pb('w10', 5), pb('w1', 5)] },
      actions: [del('w1', 'w10')],
    },
    {
      name: 'expired and extraneous are two delete actions, expired first',
      preset: { desiredInstances: 1 },
      input: { running: [pb('f1', 10), pb('e1', 61), pb('f2', 20)] },
      actions: [del('e1'), del('f2')],
    },
    {
      name: 'a pending count on an active preset is not cancelled',
      preset: { desiredInstances: 1 },
      input: { running: [pb('a', 1)], pendingNonActive: [{ presetId: 'p1', count: 3 }] },
      actions: [],
    },
  ]);
});

describe('actions of an inactive preset (rule 5)', () => {
  run([
    { name: 'nothing left', preset: { usingActiveVersion: false, desiredInstances: 3 }, actions: [] },
    {
      name: 'cancels pending builds, then deletes every running one, expired included, oldest first',
      preset: { usingActiveVersion: false, desiredInstances: 3 },
      input: {
        running: [pb('b', 10), pb('expired', 90), pb('a', 20, false)],
        pendingNonActive: [{ presetId: 'p1', count: 2 }],
      },
      actions: [cancel, del('expired', 'a', 'b')],
    },
    {
      name: 'only pending builds',
      preset: { templateDeleted: true },
      input: { pendingNonActive: [{ presetId: 'p1', count: 1 }] },
      actions: [cancel],
    },
    {
      name: 'a pending count of 0 cancels nothing',
      preset: { templateDeprecated: true },
      input: { pendingNonActive: [{ presetId: 'p1', count: 0 }] },
      actions: [],
    },
    {
      name: 'deprecated template: prebuilds go, nothing is created',
      preset: { templateDeprecated: true, desiredInstances: 5 },
      input: { running: [pb('a', 1)] },
      actions: [del('a')],
    },
    {
      name: 'deleted template, backing off: deletes anyway, no backoff',
      preset: { templateDeleted: true, desiredInstances: 5 },
      input: { running: [pb('a', 1)], backoffs: [{ presetId: 'p1', numFailed: 5, lastFailedAt: NOW }] },
      actions: [del('a')],
    },
  ]);
});

function failures(numFailed: number, lastFailedAt: Date): BackoffRow[] {
  return [{ presetId: 'p1', numFailed, lastFailedAt }];
}

describe('backoff (rule 6)', () => {
  // 2 failures × 1 min interval, the last one 2 min ago: until == NOW.
  const untilNow = failures(2, shift(NOW, -2 * MINUTE));
  run([
    {
      name: 'now == until: still backing off',
      preset: { desiredInstances: 2 },
      input: { backoffs: untilNow },
      actions: [backoff(NOW)],
    },
    {
      name: 'now == until + 1 ms: creates again',
      preset: { desiredInstances: 2 },
      input: { backoffs: untilNow },
      now: shift(NOW, 1),
      actions: [create(2)],
    },
    {
      name: 'no failures counted: creates',
      preset: { desiredInstances: 2 },
      input: { backoffs: failures(0, NOW) },
      actions: [create(2)],
    },
    {
      name: 'deletes still happen while backing off',
      preset: { desiredInstances: 2 },
      input: { backoffs: untilNow, running: [pb('e', 90), pb('a', 1)] },
      actions: [del('e'), backoff(NOW)],
    },
    {
      name: 'extraneous deletes still happen while backing off',
      preset: { desiredInstances: 1 },
      input: { backoffs: untilNow, running: [pb('a', 1), pb('b', 2)] },
      actions: [del('b')],
    },
    {
      name: 'nothing to create: no backoff reported',
      preset: { desiredInstances: 1 },
      input: { backoffs: untilNow, running: [pb('a', 1)] },
      actions: [],
    },
  ]);

  it('reports until only inside the window', () => {
    const slice = sliceOf({ backoffs: failures(3, NOW) });
    expect(slice.backoffUntil(NOW, INTERVAL)).toEqual(shift(NOW, 3 * MINUTE));
    expect(slice.backoffUntil(shift(NOW, 3 * MINUTE), INTERVAL)).toEqual(shift(NOW, 3 * MINUTE));
    expect(slice.backoffUntil(shift(NOW, 3 * MINUTE + 1), INTERVAL)).toBeNull();
    expect(sliceOf().backoffUntil(NOW, INTERVAL)).toBeNull();
  });
});

describe('hard limit and validation failure block creation only (rules 7 and 8)', () => {
  run([
    {
      name: 'in hardLimitedPresetIds: no create',
      preset: { desiredInstances: 3 },
      input: { hardLimitedPresetIds: ['p1'] },
      actions: [],
    },
    {
      name: 'stored status hard_limited: no create',
      preset: { desiredInstances: 3, prebuildStatus: 'hard_limited' },
      actions: [],
    },
    {
      name: 'stored status validation_failed: no create',
      preset: { desiredInstances: 3, prebuildStatus: 'validation_failed' },
      actions: [],
    },
    {
      name: 'hard limited and backing off: no backoff either',
      preset: { desiredInstances: 3 },
      input: { hardLimitedPresetIds: ['p1'], backoffs: failures(3, NOW) },
      actions: [],
    },
    {
      name: 'hard limited: expired and extraneous deletes still happen',
      preset: { desiredInstances: 1 },
      input: { hardLimitedPresetIds: ['p1'], running: [pb('e', 2 * 60), pb('a', 1), pb('b', 2)] },
      actions: [del('e'), del('b')],
    },
    {
      name: 'validation failed: expired ones are deleted, not replaced',
      preset: { desiredInstances: 2, prebuildStatus: 'validation_failed' },
      input: { running: [pb('e', 2 * 60), pb('a', 1)] },
      actions: [del('e')],
    },
    {
      name: "another preset's hard limit does not matter",
      preset: { desiredInstances: 1 },
      input: { hardLimitedPresetIds: ['p2'] },
      actions: [create(1)],
    },
  ]);

  it.each<[Partial<PresetRow>, string[], string | null]>([
    [{}, [], null],
    [{}, ['p1'], 'hard_limited'],
    [{ prebuildStatus: 'hard_limited' }, [], 'hard_limited'],
    [{ prebuildStatus: 'validation_failed' }, [], 'validation_failed'],
  ])('creationBlock of %j with hard-limited ids %j → %s', (preset, ids, block) => {
    expect(sliceOf({ presets: [presetRow(preset)], hardLimitedPresetIds: ids }).creationBlock()).toBe(block);
  });
});

it('gives the same answer when asked twice at one now', () => {
  const slice = sliceOf({
    presets: [presetRow({ desiredInstances: 1, ttlSeconds: 3600 })],
    running: [pb('e', 120), pb('a', 1), pb('b', 2)],
  });
  expect(slice.calculateActions(NOW, INTERVAL)).toEqual(slice.calculateActions(NOW, INTERVAL));
});
