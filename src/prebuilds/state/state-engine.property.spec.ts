import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { GlobalSnapshot } from './global-snapshot.js';
import { MINUTE, NOW, presetRow, shift } from './snapshot.fixture.js';
import type { PresetRow, ReconciliationAction, RunningPrebuildRow, SnapshotInput } from './types.js';

const PRESET_IDS = ['p0', 'p1', 'p2', 'p3'];
const INTERVAL = MINUTE;
const CRONS = [
  '* 9-18 * * 1-5',
  '* 0-8 * * *',
  '* 19-23 * * 0,6',
  '* * * * *',
  '* 12 * * 1',
  'garbage',
  '0 9 * * *',
  '* * * * 7',
];
const ZONES = ['', 'UTC', 'America/New_York', 'Europe/Berlin', 'Bad/Zone'];

/** Offsets back from `now`, in minutes; invalidations never lie in the future of `now`. */
const minutesAgo = (max: number) => fc.integer({ min: 0, max });

const presetArb = (presetId: string, now: Date): fc.Arbitrary<PresetRow> =>
  fc
    .record({
      usingActiveVersion: fc.boolean(),
      templateDeleted: fc.constantFrom(false, false, false, true),
      templateDeprecated: fc.constantFrom(false, false, false, true),
      desiredInstances: fc.option(fc.integer({ min: 0, max: 5 })),
      ttlSeconds: fc.constantFrom(null, 0, 60, 3600),
      invalidatedAgo: fc.option(minutesAgo(240)),
      schedulingTimezone: fc.constantFrom(...ZONES),
      prebuildStatus: fc.constantFrom('healthy', 'healthy', 'hard_limited', 'validation_failed' as const),
    })
    .map(({ invalidatedAgo, ...rest }) =>
      presetRow({
        ...rest,
        presetId,
        lastInvalidatedAt: invalidatedAgo === null ? null : shift(now, -invalidatedAgo * MINUTE),
      }),
    );

const presetIdArb = fc.constantFrom(...PRESET_IDS);

const inputArb: fc.Arbitrary<{ now: Date; input: SnapshotInput }> = fc
  .integer({ min: 0, max: 14 * 24 * 60 })
  .map((m) => shift(NOW, m * MINUTE))
  .chain((now) =>
    fc.record({
      now: fc.constant(now),
      input: fc.record({
        presets: fc.tuple(...PRESET_IDS.map((id) => presetArb(id, now))),
        schedules: fc.array(
          fc.record({
            presetId: presetIdArb,
            cronExpression: fc.constantFrom(...CRONS),
            desiredInstances: fc.integer({ min: 0, max: 5 }),
          }),
          { maxLength: 6 },
        ),
        running: fc
          .array(
            fc.record({
              presetId: fc.constantFrom<string | null>(...PRESET_IDS, null, 'ghost'),
              ready: fc.boolean(),
              ageMin: minutesAgo(300),
            }),
            { maxLength: 25 },
          )
          .map((rows) =>
            rows.map(({ presetId, ready, ageMin }, i): RunningPrebuildRow => ({
              workspaceId: `w${i}`,
              presetId,
              templateId: 't1',
              templateVersionId: 'v1',
              ready,
              createdAt: shift(now, -ageMin * MINUTE),
            })),
          ),
        inProgress: fc.array(
          fc.record({
            presetId: presetIdArb,
            templateId: fc.constant('t1'),
            templateVersionId: fc.constant('v1'),
            transition: fc.constantFrom('start', 'stop', 'delete' as const),
            count: fc.integer({ min: 0, max: 3 }),
          }),
          { maxLength: 4 },
        ),
        pendingNonActive: fc.array(
          fc.record({ presetId: presetIdArb, count: fc.integer({ min: 0, max: 3 }) }),
          { maxLength: 3 },
        ),
        backoffs: fc.array(
          fc.record({
            presetId: presetIdArb,
            numFailed: fc.integer({ min: 0, max: 3 }),
            lastFailedAt: minutesAgo(10).map((m) => shift(now, -m * MINUTE)),
          }),
          { maxLength: 3 },
        ),
        hardLimitedPresetIds: fc.subarray(PRESET_IDS),
      }),
    }),
  );

function plan(input: SnapshotInput, now: Date): Map<string, ReconciliationAction[]> {
  const snapshot = new GlobalSnapshot(input);
  return new Map(
    snapshot.presetIds().map((id) => [id, snapshot.filterByPreset(id).calculateActions(now, INTERVAL)]),
  );
}

const deletedIds = (actions: ReconciliationAction[]): string[] =>
  actions.flatMap((a) => (a.type === 'delete' ? a.workspaceIds : []));
const created = (actions: ReconciliationAction[]): number =>
  actions.reduce((n, a) => (a.type === 'create' ? n + a.count : n), 0);

describe('state engine properties over random snapshots', () => {
  it('plans only sane actions', () => {
    fc.assert(
      fc.property(inputArb, ({ now, input }) => {
        const snapshot = new GlobalSnapshot(input);
        const everyDeleted: string[] = [];
        for (const id of snapshot.presetIds()) {
          const slice = snapshot.filterByPreset(id);
          const actions = slice.calculateActions(now, INTERVAL);
          const mine = new Set(input.running.filter((r) => r.presetId === id).map((r) => r.workspaceId));

          expect(created(actions)).toBeLessThanOrEqual(slice.desiredInstances(now));
          for (const wid of deletedIds(actions)) expect(mine.has(wid)).toBe(true);
          everyDeleted.push(...deletedIds(actions));
          if (!slice.isActive())
            expect(actions.some((a) => a.type === 'create' || a.type === 'backoff')).toBe(false);
          if (slice.canSkipReconciliation()) expect(actions).toEqual([]);
          for (const a of actions) {
            if (a.type === 'create') expect(a.count).toBeGreaterThan(0);
            if (a.type === 'delete') expect(a.workspaceIds.length).toBeGreaterThan(0);
          }
        }
        expect(new Set(everyDeleted).size).toBe(everyDeleted.length);
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on the order rows come in', () => {
    fc.assert(
      fc.property(inputArb, fc.integer(), ({ now, input }, seed) => {
        const shuffled = [...input.running].sort(
          (a, b) => hash(a.workspaceId, seed) - hash(b.workspaceId, seed),
        );
        expect(plan({ ...input, running: shuffled }, now)).toEqual(plan(input, now));
      }),
      { numRuns: 200 },
    );
  });

  it('converges: after applying the plan, actual − expired == desired', () => {
    fc.assert(
      fc.property(inputArb, ({ now, input }) => {
        const quiet: SnapshotInput = { ...input, inProgress: [], backoffs: [] };
        const actions = plan(quiet, now);
        const gone = new Set([...actions.values()].flatMap(deletedIds));
        const fresh = [...actions].flatMap(([presetId, acts]) =>
          Array.from({ length: created(acts) }, (_, i): RunningPrebuildRow => ({
            workspaceId: `new-${presetId}-${i}`,
            presetId,
            templateId: 't1',
            templateVersionId: 'v1',
            ready: true,
            createdAt: now,
          })),
        );
        const after = new GlobalSnapshot({
          ...quiet,
          running: [...quiet.running.filter((r) => !gone.has(r.workspaceId)), ...fresh],
        });
        for (const id of after.presetIds()) {
          const slice = after.filterByPreset(id);
          const state = slice.calculateState(now);
          if (!slice.isActive()) {
            expect(state.actual).toBe(0);
          } else if (slice.creationBlock() === null) {
            expect(state.actual - state.expired).toBe(state.desired);
            expect(state.expired).toBe(0);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

function hash(s: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x5bd1e995);
  return h;
}
