import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { PresetRepository } from '../../src/prebuilds/database/preset.repository.js';
import { PresetActionExecutor } from '../../src/prebuilds/reconciler/preset-action-executor.service.js';
import {
  insertBuild,
  insertPrebuild,
  insertPreset,
  insertTemplate,
  insertUser,
  insertVersion,
  insertWorkspace,
  setActiveVersion,
} from '../support/fixtures.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { RecordingPubsub } from '../support/recording-pubsub.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Live prebuilds of a preset by what their latest build is doing. */
async function prebuildsOf(ds: DataSource, presetId: string) {
  const rows: { transition: string; status: string; count: number }[] = await ds.query(
    `SELECT b.transition, j.job_status AS status, count(*)::int AS count
       FROM prebuilds.workspaces w JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id
      WHERE w.preset_id = $1 AND w.owner_id = $2 AND NOT w.deleted
      GROUP BY 1, 2`,
    [presetId, PREBUILDS_SYSTEM_USER_ID],
  );
  const count = (transition: string, status?: string) =>
    rows
      .filter((r) => r.transition === transition && (!status || r.status === status))
      .reduce((s, r) => s + r.count, 0);
  return {
    starting: count('start', 'pending'),
    running: count('start', 'succeeded'),
    deleting: count('delete'),
    rows,
  };
}

/** Plays the provisioner: every pending job of the template succeeds (start jobs get a ready agent). */
async function completeAllJobs(ds: DataSource, at: Date, outcome: { error?: string } = {}) {
  await ds.query(
    `UPDATE prebuilds.provisioner_jobs SET started_at = $1, completed_at = $1, error = $2 WHERE started_at IS NULL AND canceled_at IS NULL`,
    [at, outcome.error ?? null],
  );
  await ds.query(
    `INSERT INTO prebuilds.workspace_agents (job_id, lifecycle_state, ready_at)
     SELECT b.job_id, 'ready', $1 FROM prebuilds.workspace_builds b JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id
      WHERE b.transition = 'start' AND j.job_status = 'succeeded'
        AND NOT EXISTS (SELECT 1 FROM prebuilds.workspace_agents a WHERE a.job_id = b.job_id)`,
    [at],
  );
  await ds.query(
    `UPDATE prebuilds.workspaces w SET deleted = true FROM prebuilds.workspace_builds b JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id
      WHERE b.id = w.latest_build_id AND b.transition = 'delete' AND j.job_status = 'succeeded'`,
  );
}

describe('ReconcilerService', () => {
  let db: TestDatabase;
  let ctx: PrebuildsTestContext;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = await createPrebuildsTestContext(db.url, { backoffIntervalMs: MINUTE, failureHardLimit: 3 });
  });
  afterAll(async () => {
    await ctx.close();
    await db.drop();
  });
  afterEach(async () => {
    // Each test reconciles only its own template, but pause is cluster-wide.
    await ctx.dataSource.query(`UPDATE prebuilds.prebuilds_settings SET reconciliation_paused = false`);
  });

  it('creates up to desired, writes builds with the preset parameters, and is idempotent', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {
      parameters: [{ name: 'region', required: true }],
    });
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 3, parameters: { region: 'eu' } });
    const first = await ctx.reconciler.reconcileTemplate(templateId);
    expect(first.presets).toEqual([
      expect.objectContaining({ presetId, actions: [{ type: 'create', count: 3 }], errors: [] }),
    ]);
    for (let i = 0; i < 3; i++) await ctx.reconciler.reconcileTemplate(templateId);
    expect((await prebuildsOf(ds, presetId)).starting).toBe(3);
    const params = await ds.query(
      `SELECT DISTINCT bp.name, bp.value FROM prebuilds.workspace_builds b JOIN prebuilds.workspace_build_parameters bp ON bp.build_id = b.id
        WHERE b.preset_id = $1`,
      [presetId],
    );
    expect(params).toEqual([{ name: 'region', value: 'eu' }]);
  });

  it('keeps presets independent: one preset starting does not block another', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const a = await insertPreset(ds, versionId, { name: 'a', desiredInstances: 2 });
    const b = await insertPreset(ds, versionId, { name: 'b', desiredInstances: 2 });
    await insertPrebuild(ds, { templateId, versionId, presetId: a, jobStatus: 'pending' });
    await insertPrebuild(ds, { templateId, versionId, presetId: a, jobStatus: 'running' });
    await ctx.reconciler.reconcileTemplate(templateId);
    expect((await prebuildsOf(ds, b)).starting).toBe(2);
    const [{ total }] = await ds.query(
      `SELECT count(*)::int AS total FROM prebuilds.workspaces WHERE preset_id = $1 AND NOT deleted`,
      [a],
    );
    expect(total).toBe(2);
  });

  it('follows a schedule in the preset timezone', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, {
      desiredInstances: 1,
      timezone: 'Europe/Berlin',
      schedules: [{ cron: '* 9-17 * * 1-5', instances: 4 }],
    });
    ctx.clock.set('2026-06-01T10:00:00Z'); // Monday 12:00 in Berlin
    const busy = await ctx.reconciler.reconcileTemplate(templateId);
    expect(busy.presets).toEqual([
      expect.objectContaining({ presetId, actions: [{ type: 'create', count: 4 }] }),
    ]);

    const { templateId: t2, versionId: v2 } = await insertTemplate(ds, {});
    await insertPreset(ds, v2, {
      desiredInstances: 1,
      timezone: 'Europe/Berlin',
      schedules: [{ cron: '* 9-17 * * 1-5', instances: 4 }],
    });
    ctx.clock.set('2026-06-06T10:00:00Z'); // Saturday
    const weekend = await ctx.reconciler.reconcileTemplate(t2);
    expect(weekend.presets[0].actions).toEqual([{ type: 'create', count: 1 }]);
  });

  it('marks a preset whose parameters do not satisfy its version validation_failed and creates nothing, while the old version is still cleaned up', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId: v1 } = await insertTemplate(ds, {});
    const oldPreset = await insertPreset(ds, v1, { desiredInstances: 1 });
    const oldPrebuild = await insertPrebuild(ds, { templateId, versionId: v1, presetId: oldPreset });
    const v2 = await insertVersion(ds, templateId, { parameters: [{ name: 'region', required: true }] });
    await setActiveVersion(ds, templateId, v2);
    const broken = await insertPreset(ds, v2, { desiredInstances: 2 });

    for (let i = 0; i < 3; i++) {
      const result = await ctx.reconciler.reconcileTemplate(templateId);
      if (i === 0) {
        const byPreset = Object.fromEntries(result.presets.map((p) => [p.presetId, p]));
        expect(byPreset[broken].errors[0]).toMatch(/required parameter 'region' is missing/);
        expect(byPreset[oldPreset].actions).toEqual([{ type: 'delete', workspaceIds: [oldPrebuild] }]);
      }
    }
    const [{ status }] = await ds.query(
      `SELECT prebuild_status AS status FROM prebuilds.template_version_presets WHERE id = $1`,
      [broken],
    );
    expect(status).toBe('validation_failed');
    const [{ count }] = await ds.query(
      `SELECT count(*)::int AS count FROM prebuilds.workspaces WHERE preset_id = $1`,
      [broken],
    );
    expect(count).toBe(0);
  });

  it('backs off after failed builds, then creates again once the backoff ends', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 1 });
    await ctx.reconciler.reconcileTemplate(templateId);
    const failedAt = ctx.clock.advance(MINUTE);
    await completeAllJobs(ds, failedAt, { error: 'boom' });

    ctx.clock.advance(30_000); // until = failedAt + 1 × 1 min
    const during = await ctx.reconciler.reconcileTemplate(templateId);
    expect(during.presets.map((p) => p.presetId)).toEqual([presetId]);
    expect(during.presets[0].actions).toEqual([
      { type: 'backoff', until: new Date(failedAt.getTime() + MINUTE) },
    ]);
    ctx.clock.set(new Date(failedAt.getTime() + MINUTE)); // still backing off at now == until
    expect((await ctx.reconciler.reconcileTemplate(templateId)).presets[0].actions[0].type).toBe('backoff');
    ctx.clock.advance(1);
    expect((await ctx.reconciler.reconcileTemplate(templateId)).presets[0].actions).toEqual([
      { type: 'create', count: 1 },
    ]);
    expect(
      await ds.query(`SELECT 1 FROM prebuilds.template_version_presets WHERE id = $1`, [presetId]),
    ).toHaveLength(1);
  });

  it('stops creating at the hard limit but still deletes, until an admin resumes the preset', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 1 });
    for (let i = 0; i < 3; i++) {
      await ctx.reconciler.reconcileTemplate(templateId);
      await completeAllJobs(ds, ctx.clock.advance(MINUTE), { error: 'boom' });
      ctx.clock.advance(HOUR); // past any backoff
    }
    const limited = await ctx.reconciler.reconcileTemplate(templateId);
    expect(limited.presets[0].actions).toEqual([]);
    const [{ status }] = await ds.query(
      `SELECT prebuild_status AS status FROM prebuilds.template_version_presets WHERE id = $1`,
      [presetId],
    );
    expect(status).toBe('hard_limited');

    // Deletes still happen: an expired running prebuild is removed even while hard-limited.
    await ds.query(`UPDATE prebuilds.template_version_presets SET ttl_seconds = 60 WHERE id = $1`, [
      presetId,
    ]);
    const old = await insertPrebuild(ds, {
      templateId,
      versionId,
      presetId,
      createdAt: new Date(ctx.clock.now().getTime() - HOUR),
    });
    const deleting = await ctx.reconciler.reconcileTemplate(templateId);
    expect(deleting.presets[0].actions).toEqual([{ type: 'delete', workspaceIds: [old] }]);

    expect(await ctx.app.get(PresetRepository).resume(presetId, ctx.clock.now(), 3)).toBe(templateId);
    ctx.clock.advance(1000);
    expect((await ctx.reconciler.reconcileTemplate(templateId)).presets[0].actions).toEqual([
      { type: 'create', count: 1 },
    ]);
  });

  it('expires prebuilds by TTL and by invalidation, and replaces them', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 2, ttlSeconds: 3600 });
    const now = ctx.clock.now().getTime();
    const aged = await insertPrebuild(ds, {
      templateId,
      versionId,
      presetId,
      createdAt: new Date(now - 3600_000 - 1),
    });
    const exact = await insertPrebuild(ds, {
      templateId,
      versionId,
      presetId,
      createdAt: new Date(now - 3600_000),
    });
    const result = await ctx.reconciler.reconcileTemplate(templateId);
    expect(result.presets[0].actions).toEqual([
      { type: 'delete', workspaceIds: [aged] },
      { type: 'create', count: 1 },
    ]);

    await ds.query(`UPDATE prebuilds.template_version_presets SET last_invalidated_at = $2 WHERE id = $1`, [
      presetId,
      new Date(now + 1),
    ]);
    ctx.clock.advance(10);
    const invalidated = await ctx.reconciler.reconcileTemplate(templateId);
    expect(invalidated.presets[0].actions[0]).toEqual({ type: 'delete', workspaceIds: [exact] });
  });

  it('cancels only pending, unacquired first start prebuilds of non-active versions', async () => {
    const ds = ctx.dataSource;
    const userId = await insertUser(ds, { username: 'cancel-user' });
    const { templateId, versionId: v1 } = await insertTemplate(ds, {});
    const preset = await insertPreset(ds, v1, { desiredInstances: 5 });
    const cancel = await insertPrebuild(ds, {
      templateId,
      versionId: v1,
      presetId: preset,
      jobStatus: 'pending',
    });
    const running = await insertPrebuild(ds, {
      templateId,
      versionId: v1,
      presetId: preset,
      jobStatus: 'running',
    });
    const rebuilt = await insertWorkspace(ds, { templateId, presetId: preset });
    await insertBuild(ds, {
      workspaceId: rebuilt,
      transition: 'start',
      jobStatus: 'succeeded',
      templateVersionId: v1,
      presetId: preset,
    });
    await insertBuild(ds, {
      workspaceId: rebuilt,
      transition: 'start',
      jobStatus: 'pending',
      templateVersionId: v1,
      presetId: preset,
    });
    const deleting = await insertWorkspace(ds, { templateId, presetId: preset });
    await insertBuild(ds, {
      workspaceId: deleting,
      transition: 'start',
      jobStatus: 'succeeded',
      templateVersionId: v1,
      presetId: preset,
    });
    await insertBuild(ds, {
      workspaceId: deleting,
      transition: 'delete',
      jobStatus: 'pending',
      templateVersionId: v1,
      presetId: preset,
    });
    const users = await insertWorkspace(ds, { templateId, presetId: preset, ownerId: userId });
    await insertBuild(ds, {
      workspaceId: users,
      transition: 'start',
      jobStatus: 'pending',
      templateVersionId: v1,
      presetId: preset,
      initiatorId: userId,
    });
    const other = await insertTemplate(ds, {});
    const otherPreset = await insertPreset(ds, other.versionId, { desiredInstances: 1 });
    const othersPending = await insertPrebuild(ds, {
      templateId: other.templateId,
      versionId: other.versionId,
      presetId: otherPreset,
      jobStatus: 'pending',
    });

    await setActiveVersion(ds, templateId, await insertVersion(ds, templateId, {}));
    const result = await ctx.reconciler.reconcileTemplate(templateId);
    expect(result.presets.find((p) => p.presetId === preset)?.actions).toEqual([{ type: 'cancel_pending' }]);

    const states: { id: string; deleted: boolean; status: string }[] = await ds.query(
      `SELECT w.id, w.deleted, j.job_status AS status FROM prebuilds.workspaces w
         JOIN prebuilds.workspace_builds b ON b.workspace_id = w.id AND b.build_number = 1 JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id
        WHERE w.id = ANY($1::uuid[])`,
      [[cancel, running, rebuilt, deleting, users, othersPending]],
    );
    const byId = Object.fromEntries(states.map((s) => [s.id, s]));
    expect(byId[cancel]).toEqual({ id: cancel, deleted: true, status: 'canceled' });
    for (const untouched of [running, users, othersPending]) expect(byId[untouched].deleted).toBe(false);
    expect(byId[rebuilt].deleted).toBe(false);
    expect(byId[deleting].deleted).toBe(false);
    const [{ status }] = await ds.query(
      `SELECT j.job_status AS status FROM prebuilds.workspaces w JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id
         JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id WHERE w.id = $1`,
      [rebuilt],
    );
    expect(status).toBe('pending');
  });

  it('does nothing but report while paused, and resumes', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 1 });
    await ds.query(`UPDATE prebuilds.prebuilds_settings SET reconciliation_paused = true`);
    const paused = await ctx.reconciler.reconcileTemplate(templateId);
    expect(paused).toMatchObject({ acquired: true, paused: true, presets: [] });
    expect((await prebuildsOf(ds, presetId)).starting).toBe(0);
    await ds.query(`UPDATE prebuilds.prebuilds_settings SET reconciliation_paused = false`);
    await ctx.reconciler.reconcileTemplate(templateId);
    expect((await prebuildsOf(ds, presetId)).starting).toBe(1);
  });

  it('runs a full cycle asked for during another cycle right after it, and skips a concurrent template cycle', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    await insertPreset(ds, versionId, { desiredInstances: 1 });
    const executor = ctx.app.get(PresetActionExecutor);
    const original = executor.finishCreates.bind(executor);
    const slow = jest.spyOn(executor, 'finishCreates').mockImplementation(async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return original(...args);
    });
    try {
      const first = ctx.reconciler.reconcileTemplate(templateId);
      const [skipped, full] = await Promise.all([
        ctx.reconciler.reconcileTemplate(templateId),
        ctx.reconciler.reconcileAll(),
      ]);
      expect((await first).acquired).toBe(true);
      expect(skipped.acquired).toBe(false);
      expect(full).toMatchObject({ acquired: true, templateId: null });
    } finally {
      slow.mockRestore();
    }
  });

  it('records the cluster-wide last cycle after a full cycle', async () => {
    const at = ctx.clock.now();
    const result = await ctx.reconciler.reconcileAll();
    expect(result.acquired).toBe(true);
    const [row] = await ctx.dataSource.query(
      `SELECT last_cycle_completed_at AS at, last_cycle_replica AS replica FROM prebuilds.prebuilds_settings`,
    );
    // Recorded in database time (now()), not the replica's clock.
    const [{ dbNow }] = await ctx.dataSource.query(`SELECT now() AS "dbNow"`);
    expect(row.replica).toBe('test');
    expect(Math.abs(new Date(dbNow).getTime() - row.at.getTime())).toBeLessThan(10_000);
    expect(at).toBeInstanceOf(Date);
  });

  it('fails jobs that ran past the job timeout in a full cycle, so their prebuilds get replaced', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 2 });
    const now = ctx.clock.now().getTime();
    const lost = await insertPrebuild(ds, {
      templateId,
      versionId,
      presetId,
      jobStatus: 'running',
      createdAt: new Date(now - 31 * MINUTE),
    });
    const busy = await insertPrebuild(ds, {
      templateId,
      versionId,
      presetId,
      jobStatus: 'running',
      createdAt: new Date(now - MINUTE),
    });
    await ds.query(
      // The timeout is judged in database time, from when the holder acquired the job.
      `UPDATE prebuilds.provisioner_jobs j SET started_at = b.created_at, acquired_at = now() - ($2::timestamptz - b.created_at)
         FROM prebuilds.workspace_builds b WHERE b.job_id = j.id AND b.workspace_id = ANY($1::uuid[])`,
      [[lost, busy], ctx.clock.now()],
    );
    await ctx.reconciler.reconcileAll();
    const statuses: { id: string; status: string }[] = await ds.query(
      `SELECT w.id, j.job_status AS status FROM prebuilds.workspaces w JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id
         JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id WHERE w.id = ANY($1::uuid[])`,
      [[lost, busy]],
    );
    expect(Object.fromEntries(statuses.map((s) => [s.id, s.status]))).toEqual({
      [lost]: 'failed',
      [busy]: 'running',
    });
  });

  it.each([
    [1, 0, null],
    [200, 0, null],
    [200, 0, 'weekday == 0 ? 0 : scheduled_target'],
    [200, 1, 'max(base, claims_10m)'],
  ])(
    'reads its snapshot with %i presets in 7 statements + %i, and the catalog again only after it changed (target expression: %s)',
    async (presetCount, windows, expression) => {
      const statementDb = await createTestDatabase();
      const counted = await createPrebuildsTestContext(statementDb.url);
      try {
        const { templateId, versionId } = await insertTemplate(counted.dataSource, {});
        for (let i = 0; i < presetCount; i++) {
          const presetId = await insertPreset(counted.dataSource, versionId, {
            name: `p${i}`,
            desiredInstances: 1,
            instancesExpression: expression,
          });
          await insertPrebuild(counted.dataSource, { templateId, versionId, presetId });
        }
        const cycleStatements = async () => {
          counted.sql.statements = [];
          const result = await counted.reconciler.reconcileAll();
          expect(result.presetsReconciled).toBe(presetCount);
          expect(result.presets.every((p) => p.actions.length === 0)).toBe(true);
          // The cycle proper: from its transaction's start to its end (bookkeeping after the lock is not part of it).
          const begin = counted.sql.statements.findIndex((q) => /^START TRANSACTION/.test(q));
          const end = counted.sql.statements.findIndex((q, index) => index > begin && /^ROLLBACK/.test(q));
          expect(begin).toBeGreaterThanOrEqual(0);
          return counted.sql.statements.slice(begin, end + 1);
        };
        const readsCatalog = (cycle: string[]) => cycle.some((q) => q.includes('"usingActiveVersion"'));
        // BEGIN, isolation, lock + session settings, catalog version, prebuild summary, failures, ROLLBACK; plus the
        // claim windows when a preset's target expression reads them (DESIGN.md rule 12: the one statement issue 15
        // added). Whatever the number of presets. The first cycle of a process also reads presets and schedules,
        // and so does the first after any change to the catalog (migration 1765700000000-CatalogVersion).
        const first = await cycleStatements();
        expect(first.length).toBe(9 + windows);
        expect(readsCatalog(first)).toBe(true);
        const steady = await cycleStatements();
        expect(steady.length).toBe(7 + windows);
        expect(readsCatalog(steady)).toBe(false);
        await counted.dataSource.query(
          `UPDATE prebuilds.templates SET name = name || '-renamed' WHERE id = $1`,
          [templateId],
        );
        const afterChange = await cycleStatements();
        expect(afterChange.length).toBe(9 + windows);
        expect(readsCatalog(afterChange)).toBe(true);
      } finally {
        await counted.close();
        await statementDb.drop();
      }
    },
  );
});

describe('ReconcilerService across replicas', () => {
  let db: TestDatabase;
  const replicas: PrebuildsTestContext[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 5; i++)
      replicas.push(await createPrebuildsTestContext(db.url, { replicaId: `r${i}` }));
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await db.drop();
  });

  it('never runs two critical sections at once when five reconcilers race for the lock', async () => {
    const ds = replicas[0].dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    for (let i = 0; i < 3; i++) await insertPreset(ds, versionId, { name: `race${i}`, desiredInstances: 1 });
    // A cycle writes its creates inside the lock; what must never happen is two replicas writing theirs together.
    const inside = new Map<number, number>();
    let maxReplicasInside = 0;
    replicas.forEach((replica, index) => {
      const executor = replica.app.get(PresetActionExecutor);
      const original = executor.finishCreates.bind(executor);
      jest.spyOn(executor, 'finishCreates').mockImplementation(async (...args) => {
        inside.set(index, (inside.get(index) ?? 0) + 1);
        maxReplicasInside = Math.max(maxReplicasInside, [...inside.values()].filter((n) => n > 0).length);
        await new Promise((resolve) => setTimeout(resolve, 30));
        try {
          return await original(...args);
        } finally {
          inside.set(index, (inside.get(index) ?? 1) - 1);
        }
      });
    });
    let acquired = 0;
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(
        replicas.map((replica) => replica.reconciler.reconcileTemplate(templateId)),
      );
      acquired += results.filter((r) => r.acquired).length;
    }
    expect(acquired).toBeGreaterThanOrEqual(4);
    expect(maxReplicasInside).toBe(1);
    const [{ count }] = await ds.query(
      `SELECT count(*)::int AS count FROM prebuilds.workspaces WHERE template_id = $1`,
      [templateId],
    );
    expect(count).toBe(3);
  });

  it('reaches the same outcome with a publisher that always fails', async () => {
    const failing = await createPrebuildsTestContext(db.url, {}, { pubsub: new RecordingPubsub(true) });
    try {
      const { templateId, versionId } = await insertTemplate(failing.dataSource, {});
      const presetId = await insertPreset(failing.dataSource, versionId, { desiredInstances: 2 });
      const result = await failing.reconciler.reconcileTemplate(templateId);
      expect(result.presets[0]).toMatchObject({
        presetId,
        actions: [{ type: 'create', count: 2 }],
        errors: [],
      });
      expect((await prebuildsOf(failing.dataSource, presetId)).starting).toBe(2);
    } finally {
      await failing.close();
    }
  });
});
