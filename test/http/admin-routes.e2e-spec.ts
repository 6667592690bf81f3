import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { FakeClock } from '../support/fake-clock.js';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import {
  adminClient,
  type AdminClient,
  API,
  bearer,
  createTemplate,
  dbFingerprint,
  expectError,
  insertRunning,
  resultOf,
} from './http-kit.js';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';

/**
 * POST /prebuilds/reconcile, GET /prebuilds/status and /plan, and the pause, over HTTP on a fake clock. The loop and
 * the provisioner are off, so only the routes act.
 */

const STATE_FIELDS = [
  'desired',
  'actual',
  'eligible',
  'extraneous',
  'expired',
  'starting',
  'stopping',
  'deleting',
];
const STATUS_FIELDS = [
  ...['presetId', 'presetName', 'templateId', 'templateName', 'templateVersionId', 'active', 'status'],
  ...['desiredSource', 'expression', 'demand', 'failed', 'stopped', 'backoffUntil', ...STATE_FIELDS],
];
/** The reconcile lock of the default schema: (PrebuildsNamespace.lockNamespace, PrebuildsLock.Reconcile). */
const RECONCILE_LOCK = [new PrebuildsNamespace().lockNamespace, 1];

describe('admin routes: reconcile, status, plan, pause', () => {
  let db: TestDatabase;
  let host: HostTestApp;
  let admin: AdminClient;
  const clock = new FakeClock('2026-06-01T12:00:00Z');
  const auth = () => bearer(host.tokens.owner);
  const prebuildCount = async (templateId: string): Promise<number> =>
    (
      await host.dataSource.query(
        `SELECT count(*)::int AS n FROM prebuilds.workspaces WHERE template_id = $1 AND owner_id = $2 AND NOT deleted`,
        [templateId, PREBUILDS_SYSTEM_USER_ID],
      )
    )[0].n;

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url, {}, { clock });
    admin = adminClient(host);
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  it('reconciles one template with { templateId }, then everything, answering the per-preset result', async () => {
    const schedule = { timezone: 'UTC', schedules: [{ cron: '* 12 * * *', instances: 3 }] };
    const t1 = await createTemplate(host, [
      { name: 'alpha', prebuilds: { instances: 2 } },
      { name: 'office', prebuilds: { instances: 1, ...schedule } },
    ]);
    const t2 = await createTemplate(host, [{ name: 'gamma', prebuilds: { instances: 1 } }]);
    expect((await admin.status()).lastCycleAt).toBeNull();

    const one = await admin.reconcile({ templateId: t2.id }).expect(200);
    expect(one.body).toMatchObject({ acquired: true, elapsedMs: expect.any(Number) });
    const empty = Object.fromEntries(STATE_FIELDS.map((field) => [field, 0]));
    expect(one.body.presets).toEqual([
      {
        presetId: t2.presetIds.gamma,
        state: { ...empty, desired: 1 },
        actions: [{ type: 'create', count: 1 }],
        errors: [],
        // No cap clamped it: the preset got what it wanted.
        cappedBy: null,
        uncappedDesired: 1,
        desiredSource: 'base',
      },
    ]);
    expect([await prebuildCount(t1.id), await prebuildCount(t2.id)]).toEqual([0, 1]);

    const all = await admin.reconcile().expect(200);
    expect(all.body.acquired).toBe(true);
    expect(resultOf(all.body, t1.presetIds.alpha)).toMatchObject({ actions: [{ type: 'create', count: 2 }] });
    // The schedule matches at 12:00 UTC and gives 3, not the base 1.
    expect(resultOf(all.body, t1.presetIds.office)).toMatchObject({
      actions: [{ type: 'create', count: 3 }],
    });
    expect(resultOf(all.body, t2.presetIds.gamma)).toMatchObject({ state: { starting: 1 }, actions: [] });
    for (const preset of all.body.presets) expect(preset.errors).toEqual([]);
    expect([await prebuildCount(t1.id), await prebuildCount(t2.id)]).toEqual([5, 1]);

    const status = await admin.status();
    // The cluster's last cycle is recorded in database time (now()), not the replica's clock.
    expect(status).toMatchObject({ paused: false, lastCycleAt: expect.any(String) });
    expect(status.lastCycleAgeMs).toBeGreaterThanOrEqual(0);
    for (const preset of status.presets)
      expect(Object.keys(preset)).toEqual(expect.arrayContaining(STATUS_FIELDS));
    expect(await admin.presetStatus(t1.presetIds.office)).toMatchObject({
      presetName: 'office',
      templateId: t1.id,
      templateName: t1.name,
      templateVersionId: t1.activeVersion.id,
      active: true,
      status: 'healthy',
      desiredSource: '* 12 * * *',
      desired: 3,
      actual: 0,
      starting: 3,
      failed: 0,
      stopped: 0,
      backoffUntil: null,
    });
    expect(await admin.presetStatus(t1.presetIds.alpha)).toMatchObject({ desiredSource: 'base', desired: 2 });
  });

  it('answers 409 RECONCILE_IN_PROGRESS while another connection holds the reconcile lock', async () => {
    const t = await createTemplate(host, [{ name: 'locked', prebuilds: { instances: 1 } }]);
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      const { rows } = await other.query(`SELECT pg_try_advisory_xact_lock($1, $2) AS ok`, RECONCILE_LOCK);
      expect(rows).toEqual([{ ok: true }]);
      const before = await dbFingerprint(host.dataSource);
      for (const body of [{}, { templateId: t.id }]) {
        const res = await admin.reconcile(body).expect(409);
        expectError(res.body, 409, 'RECONCILE_IN_PROGRESS');
      }
      expect(await dbFingerprint(host.dataSource)).toEqual(before);
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
    const res = await admin.reconcile({ templateId: t.id }).expect(200);
    expect(resultOf(res.body, t.presetIds.locked)).toMatchObject({ actions: [{ type: 'create', count: 1 }] });
  });

  it('plans without writing anything, and the next cycle does what the plan said', async () => {
    const t = await createTemplate(host, [{ name: 'planned', prebuilds: { instances: 2 } }]);
    const stale = await insertRunning(host, t, 'planned', { count: 3, now: clock.now() });
    const before = await dbFingerprint(host.dataSource);
    const plan = await admin.plan();
    const again = await admin.plan();
    expect(await dbFingerprint(host.dataSource)).toEqual(before);
    expect(again).toEqual(plan);
    expect(plan.paused).toBe(false);
    // Three running, two wanted: the oldest one goes.
    const planned = resultOf(plan, t.presetIds.planned);
    expect(planned).toEqual({
      presetId: t.presetIds.planned,
      state: expect.objectContaining({ desired: 2, actual: 3, eligible: 3, extraneous: 1 }),
      actions: [{ type: 'delete', workspaceIds: [stale[2]] }],
      desiredSource: 'base',
      expression: null,
      cappedBy: null,
      capsApplied: [],
      uncappedCreate: 0,
      uncappedDesired: 2,
    });
    const cycle = await admin.reconcile({ templateId: t.id }).expect(200);
    expect(resultOf(cycle.body, t.presetIds.planned)).toMatchObject({
      actions: planned?.actions,
      errors: [],
    });
    const [latest] = await host.dataSource.query(
      `SELECT b.transition FROM prebuilds.workspaces w JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id WHERE w.id = $1`,
      [stale[2]],
    );
    expect(latest).toEqual({ transition: 'delete' });
  });

  it('pauses: reconcile reports paused and writes nothing, plan still answers, claims still work', async () => {
    const t = await createTemplate(host, [{ name: 'paused', prebuilds: { instances: 2 } }]);
    const [warm] = await insertRunning(host, t, 'paused', { count: 1, now: clock.now() });
    const setPaused = (paused: boolean) =>
      host.http
        .put(`${API}/prebuilds/settings`)
        .set(auth())
        .send({ reconciliationPaused: paused })
        .expect(200, { reconciliationPaused: paused });
    await setPaused(true);
    try {
      await host.http
        .get(`${API}/prebuilds/settings`)
        .set(auth())
        .expect(200, { reconciliationPaused: true });
      expect((await admin.status()).paused).toBe(true);
      const before = await dbFingerprint(host.dataSource);
      const cycle = await admin.reconcile().expect(200);
      expect(cycle.body).toMatchObject({ acquired: true, paused: true, presets: [] });
      expect(await dbFingerprint(host.dataSource)).toEqual(before);
      const plan = await admin.plan();
      expect(plan.paused).toBe(true);
      expect(resultOf(plan, t.presetIds.paused)).toMatchObject({ actions: [{ type: 'create', count: 1 }] });

      const claim = await host.http
        .post(`${API}/workspaces`)
        .set(bearer(host.tokens.member))
        .send({ templateId: t.id, name: 'while-paused', presetId: t.presetIds.paused })
        .expect(201);
      expect(claim.body).toMatchObject({
        id: warm,
        name: 'while-paused',
        claimed: true,
        ownerId: host.userIds.member,
      });
    } finally {
      await setPaused(false);
    }
    const resumed = await admin.reconcile().expect(200);
    expect(resumed.body.paused).toBe(false);
    expect(resultOf(resumed.body, t.presetIds.paused)).toMatchObject({
      actions: [{ type: 'create', count: 2 }],
    });
  });
});
