import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { PresetHistoryService } from '../../src/prebuilds/admin/preset-history.service.js';
import { ClaimService } from '../../src/prebuilds/claim/claim.service.js';
import {
  type PrebuildEvent,
  PrebuildEventRepository,
} from '../../src/prebuilds/database/prebuild-event.repository.js';
import { PresetHistoryRepository } from '../../src/prebuilds/database/preset-history.repository.js';
import { PrebuildsLogger } from '../../src/prebuilds/logging/prebuilds-logger.js';
import { NotificationBatcher } from '../../src/prebuilds/pubsub/notification-batcher.service.js';
import { insertPrebuild, insertPreset, insertTemplate } from '../support/fixtures.js';
import { FakeClock } from '../support/fake-clock.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Issue 15, item 4: every full cycle samples each reconciled preset's gauges and the claims and misses since the
 * previous sample, on two replicas (two contexts, one database, a fake clock each); the history reads them back.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('per-preset history', () => {
  let db: TestDatabase;
  let a: PrebuildsTestContext;
  let b: PrebuildsTestContext;

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await createPrebuildsTestContext(db.url, { replicaId: 'a' }, { clock: new FakeClock() });
    b = await createPrebuildsTestContext(db.url, { replicaId: 'b' }, { clock: new FakeClock() });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  /** Both replicas' clocks at `at`. */
  const setClocks = (at: string) => {
    a.clock.set(at);
    b.clock.set(at);
  };
  const history = (presetId: string, window: '1h' | '24h' | '7d' = '1h', ctx = a) =>
    ctx.app.get(PresetHistoryService).read(presetId, window);
  const events = (presetId: string, claims: number, misses: number, at: Date): PrebuildEvent[] => [
    ...Array.from({ length: claims }, () => ({ presetId, type: 'claim_succeeded' as const, at })),
    ...Array.from({ length: misses }, () => ({ presetId, type: 'claim_missed' as const, at })),
  ];
  const rowsOf = async (presetId: string): Promise<{ resolution: number; at: Date }[]> =>
    a.dataSource.query(
      `SELECT resolution_seconds AS resolution, bucket_start AS at FROM prebuilds.preset_history
        WHERE preset_id = $1 ORDER BY 1, 2`,
      [presetId],
    );

  it("shows one sample per minute with that minute's last gauges, and each claim and miss once across replicas", async () => {
    setClocks('2026-06-01T12:00:10Z');
    const ds = a.dataSource;
    const { templateId, versionId } = await insertTemplate(ds);
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 3 });
    const old = new Date('2026-06-01T11:00:00Z');
    await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: old });
    await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: old, ready: false });

    // 12:00 — replica a: 2 running, 1 of them ready; it creates the third.
    const first = await a.reconciler.reconcileAll();
    expect(first.presets.find((p) => p.presetId === presetId)?.actions).toEqual([
      { type: 'create', count: 1 },
    ]);

    // 12:01 — a real claim of the ready prebuild, then a miss (nothing eligible left), and two claims recorded
    // elsewhere; both replicas run a full cycle in this minute.
    setClocks('2026-06-01T12:00:40Z');
    const claims = a.app.get(ClaimService);
    expect((await claims.createWorkspace({ templateId, presetId, ownerId: 'u1', name: 'w1' })).claimed).toBe(
      true,
    );
    expect((await claims.createWorkspace({ templateId, presetId, ownerId: 'u2', name: 'w2' })).claimed).toBe(
      false,
    );
    await a.app.get(NotificationBatcher).flush();
    await b.app
      .get(PrebuildEventRepository)
      .insertManyAlone(events(presetId, 2, 0, new Date('2026-06-01T12:00:50Z')));
    a.clock.set('2026-06-01T12:01:05Z');
    await a.reconciler.reconcileAll();
    b.clock.set('2026-06-01T12:01:30Z');
    await b.reconciler.reconcileAll();
    // A third cycle in the minute, after the admin asked for more: the last sample of the minute wins.
    await ds.query(`UPDATE prebuilds.template_version_presets SET desired_instances = 5 WHERE id = $1`, [
      presetId,
    ]);
    b.clock.set('2026-06-01T12:01:50Z');
    await b.reconciler.reconcileAll();
    // A replica whose clock is behind samples an earlier instant of the same minute last: its claim counts, its
    // gauges do not win.
    a.clock.set('2026-06-01T12:01:45Z');
    await a.app.get(PrebuildEventRepository).insertManyAlone(events(presetId, 1, 0, a.clock.now()));
    await a.app
      .get(PresetHistoryRepository)
      .recordCycle(a.clock.now(), [{ presetId, desired: 9, running: 9, eligible: 9, starting: 9 }]);

    // 12:02 — five claims, counted by ten samples racing on both replicas: each exactly once.
    await a.app
      .get(PrebuildEventRepository)
      .insertManyAlone(events(presetId, 4, 1, new Date('2026-06-01T12:01:55Z')));
    const at = new Date('2026-06-01T12:02:10Z');
    const racing = Array.from({ length: 10 }, (_, i) =>
      (i % 2 === 0 ? a : b).app.get(PresetHistoryRepository).recordCycle(at, []),
    );
    expect((await Promise.all(racing)).reduce((sum, r) => sum + r.events, 0)).toBe(5);

    setClocks('2026-06-01T12:02:30Z');
    const answer = await history(presetId);
    expect(answer).toEqual({
      presetId,
      window: '1h',
      resolutionSeconds: 60,
      from: '2026-06-01T11:02:30.000Z',
      to: '2026-06-01T12:02:30.000Z',
      samples: [
        {
          at: '2026-06-01T12:00:00.000Z',
          desired: 3,
          running: 2,
          eligible: 1,
          starting: 0,
          claims: 0,
          misses: 0,
        },
        {
          at: '2026-06-01T12:01:00.000Z',
          // As of 12:01:50: the claimed prebuild left the pool, the not-ready one is still running, the one
          // created at 12:00 and the claimed one's replacement are starting.
          desired: 5,
          running: 1,
          eligible: 0,
          starting: 2,
          claims: 4,
          misses: 1,
        },
        {
          at: '2026-06-01T12:02:00.000Z',
          // Claims in a bucket no cycle sampled (bare samples) show the gauges the pool last had.
          desired: 5,
          running: 1,
          eligible: 0,
          starting: 2,
          claims: 4,
          misses: 1,
        },
      ],
    });
    // The same history from the other replica, and in the coarser windows one bucket holds all three minutes.
    expect(await history(presetId, '1h', b)).toEqual(answer);
    expect((await history(presetId, '24h')).samples).toEqual([
      expect.objectContaining({ at: '2026-06-01T12:00:00.000Z', claims: 8, misses: 2 }),
    ]);
    expect(await history(presetId, '7d')).toMatchObject({
      resolutionSeconds: 7200,
      samples: [{ at: '2026-06-01T12:00:00.000Z', claims: 8, misses: 2 }],
    });
  });

  it("sends only changed presets, and everything again once another replica's sample moved something", async () => {
    setClocks('2026-06-01T20:00:00Z');
    const { versionId } = await insertTemplate(a.dataSource);
    const presetId = await insertPreset(a.dataSource, versionId, { desiredInstances: 1 });
    const other = await insertPreset(a.dataSource, versionId, { desiredInstances: 1 });
    const gauges = (id: string, desired: number) => ({
      presetId: id,
      desired,
      running: 0,
      eligible: 0,
      starting: 0,
    });
    const record = (ctx: PrebuildsTestContext, at: string, samples: ReturnType<typeof gauges>[]) =>
      ctx.app.get(PresetHistoryRepository).recordCycle(new Date(at), samples);
    const sent = (spy: { mock: { calls: unknown[][] } }) =>
      spy.mock.calls.map((call) => ((call[1] as unknown[][])[1] as string[]).length);

    await record(a, '2026-06-01T20:00:10Z', [gauges(presetId, 1), gauges(other, 1)]);
    const query = jest.spyOn(a.dataSource, 'query');
    try {
      // Nothing changed: a statement with no preset in it.
      await record(a, '2026-06-01T20:00:20Z', [gauges(presetId, 1), gauges(other, 1)]);
      // Replica b moves the preset to 3; a, which last saw 1 and sees 1 again, must not trust its copy.
      await record(b, '2026-06-01T20:00:30Z', [gauges(presetId, 3)]);
      await record(a, '2026-06-01T20:00:40Z', [gauges(presetId, 1), gauges(other, 1)]);
      const history = query.mock.calls.filter((call) => /preset_history_latest/.test(String(call[0])));
      expect(sent({ mock: { calls: history } })).toEqual([0, 0, 2]);
    } finally {
      query.mockRestore();
    }
    a.clock.set('2026-06-01T20:00:50Z');
    expect((await history(presetId)).samples).toEqual([expect.objectContaining({ desired: 1 })]);
  });

  it('charts the misses of a preset without prebuilds, with zero gauges', async () => {
    setClocks('2026-06-02T08:00:00Z');
    const { versionId } = await insertTemplate(a.dataSource);
    const presetId = await insertPreset(a.dataSource, versionId, {});
    await a.app.get(PrebuildEventRepository).insertManyAlone(events(presetId, 0, 2, a.clock.now()));
    await a.reconciler.reconcileAll();
    expect((await history(presetId)).samples).toEqual([
      {
        at: '2026-06-02T08:00:00.000Z',
        desired: 0,
        running: 0,
        eligible: 0,
        starting: 0,
        claims: 0,
        misses: 2,
      },
    ]);
  });

  it('writes nothing for a steady pool, thins each resolution past its retention, and still charts it', async () => {
    setClocks('2026-06-03T00:00:00Z');
    const { versionId } = await insertTemplate(a.dataSource);
    const presetId = await insertPreset(a.dataSource, versionId, { desiredInstances: 0 });
    await a.reconciler.reconcileAll();
    const t0 = new Date('2026-06-03T00:00:00Z');
    expect(await rowsOf(presetId)).toEqual([
      { resolution: 60, at: t0 },
      { resolution: 900, at: t0 },
      { resolution: 7200, at: t0 },
    ]);

    // 4 hours on, nothing changed: the cycle writes no row, and the minute bucket is past its 2 h.
    a.clock.advance(4 * HOUR);
    await a.reconciler.reconcileAll();
    const t4 = new Date('2026-06-03T04:00:00Z');
    expect(await rowsOf(presetId)).toEqual([
      { resolution: 900, at: t0 },
      { resolution: 7200, at: t0 },
    ]);
    // Both cycles' buckets are charted, the later one with the gauges that held since.
    const day = (await history(presetId, '24h')).samples;
    expect(day.map((s) => [s.at, s.desired])).toEqual([
      [t0.toISOString(), 0],
      [t4.toISOString(), 0],
    ]);
    expect((await history(presetId, '1h')).samples.map((s) => [s.at, s.desired])).toEqual([
      [t4.toISOString(), 0],
    ]);

    a.clock.advance(8 * DAY);
    await a.reconciler.reconcileAll();
    const t8 = new Date('2026-06-11T04:00:00Z');
    expect(await rowsOf(presetId)).toEqual([]);
    expect((await history(presetId, '7d')).samples.map((s) => [s.at, s.desired])).toEqual([
      [t8.toISOString(), 0],
    ]);

    // A change writes its buckets again, and the value before it is still known after the old rows are gone.
    await a.dataSource.query(
      `UPDATE prebuilds.template_version_presets SET desired_instances = 2 WHERE id = $1`,
      [presetId],
    );
    a.clock.advance(10 * MINUTE);
    await a.reconciler.reconcileAll();
    expect((await history(presetId, '1h')).samples.map((s) => [s.at, s.desired])).toEqual([
      [t8.toISOString(), 0],
      ['2026-06-11T04:10:00.000Z', 2],
    ]);
  });

  it('writes no sample for a template cycle or a paused one, and outside the cycle transaction', async () => {
    setClocks('2026-06-12T10:00:00Z');
    const { templateId, versionId } = await insertTemplate(a.dataSource);
    const presetId = await insertPreset(a.dataSource, versionId, { desiredInstances: 1 });
    const cycle = await a.reconciler.reconcileTemplate(templateId);
    expect(cycle.presets.map((p) => p.presetId)).toEqual([presetId]);
    expect(await rowsOf(presetId)).toEqual([]);

    await a.dataSource.query(`UPDATE prebuilds.prebuilds_settings SET reconciliation_paused = true`);
    try {
      expect((await a.reconciler.reconcileAll()).paused).toBe(true);
    } finally {
      await a.dataSource.query(`UPDATE prebuilds.prebuilds_settings SET reconciliation_paused = false`);
    }
    expect(await rowsOf(presetId)).toEqual([]);

    a.sql.statements = [];
    await a.reconciler.reconcileAll();
    const sent = a.sql.statements;
    // One statement, after the ROLLBACK that released the lock.
    const end = sent.findIndex((q) => /^ROLLBACK/.test(q));
    const writes = sent.flatMap((q, index) => (/preset_history/.test(q) ? [index] : []));
    expect(end).toBeGreaterThanOrEqual(0);
    expect(writes).toEqual([expect.any(Number)]);
    expect(writes[0]).toBeGreaterThan(end);
    expect(await rowsOf(presetId)).toHaveLength(3);
  });

  it('logs a failed history write and still completes the cycle; the claims wait for the next sample', async () => {
    setClocks('2026-06-13T10:00:00Z');
    const { versionId } = await insertTemplate(a.dataSource);
    const presetId = await insertPreset(a.dataSource, versionId, { desiredInstances: 1 });
    await a.app.get(PrebuildEventRepository).insertManyAlone(events(presetId, 1, 0, a.clock.now()));
    const repository = a.app.get(PresetHistoryRepository);
    const write = jest.spyOn(repository, 'recordCycle').mockRejectedValueOnce(new Error('disk full'));
    const logged = jest.spyOn(PrebuildsLogger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const cycle = await a.reconciler.reconcileAll();
      expect(cycle.presets.find((p) => p.presetId === presetId)?.actions).toEqual([
        { type: 'create', count: 1 },
      ]);
      expect(logged).toHaveBeenCalledWith(expect.objectContaining({ event: 'history_write_failed' }));
    } finally {
      write.mockRestore();
      logged.mockRestore();
    }
    expect(await rowsOf(presetId)).toEqual([]);

    a.clock.advance(MINUTE);
    await a.reconciler.reconcileAll();
    expect((await history(presetId)).samples).toEqual([
      expect.objectContaining({ at: '2026-06-13T10:01:00.000Z', desired: 1, starting: 1, claims: 1 }),
    ]);
  });
});
