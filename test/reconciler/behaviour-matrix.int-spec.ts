import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from '../../src/prebuilds/database/prebuilds-namespace.js';
import {
  insertBuild,
  insertPreset,
  insertTemplate,
  insertUser,
  insertVersion,
  insertWorkspace,
  setActiveVersion,
} from '../support/fixtures.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

type Transition = 'start' | 'stop' | 'delete';
type JobStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceling' | 'canceled';

const transitions: Transition[] = ['start', 'stop', 'delete'];
const statuses: JobStatus[] = ['pending', 'running', 'succeeded', 'failed', 'canceling', 'canceled'];
const HOUR = 3_600_000;

interface Case {
  transition: Transition;
  status: JobStatus;
  activeVersion: boolean;
  templateDeleted: boolean;
}

/**
 * DESIGN.md's rules for one existing prebuild of a preset that wants one:
 * never create for an inactive preset; no new one while one runs or starts; replace anything else (stopping,
 * deleting, stopped, deleted, failed, canceled); delete a running one only when the preset is inactive; cancel
 * (and orphan-delete) a pending first start of an inactive preset (non-active version or deleted template).
 */
function expected(c: Case): { creates: number; existing: 'kept' | 'deleted' | 'canceled' } {
  const active = c.activeVersion && !c.templateDeleted;
  const running = c.transition === 'start' && c.status === 'succeeded';
  const starting = c.transition === 'start' && (c.status === 'pending' || c.status === 'running');
  if (!active) {
    if (running) return { creates: 0, existing: 'deleted' };
    // Rule 11: a deleted template's pending first starts are canceled like a non-active version's.
    if (c.transition === 'start' && c.status === 'pending') return { creates: 0, existing: 'canceled' };
    return { creates: 0, existing: 'kept' };
  }
  return { creates: running || starting ? 0 : 1, existing: 'kept' };
}

const cases: Case[] = transitions.flatMap((transition) =>
  statuses.flatMap((status) =>
    [true, false].flatMap((activeVersion) =>
      [false, true].map((templateDeleted) => ({ transition, status, activeVersion, templateDeleted })),
    ),
  ),
);

/** One case's rows: the prebuild under test, two bystanders, and their latest builds before any cycle. */
interface Arranged {
  templateId: string;
  existing: string;
  stopped: string;
  users: string;
  before: LatestBuilds;
}

/**
 * Every case is its own template, arranged before any cycle; then 8 full cycles run over all of them, as the loop
 * runs in production (one snapshot per cycle, every template in it), and each case checks its own template. One set
 * of 8 cycles instead of 8 per case: the cases share nothing but the caps, which 72 presets of one prebuild each
 * stay far below.
 */
describe('reconciler behaviour matrix (8 consecutive cycles over every case)', () => {
  let db: TestDatabase;
  let ctx: PrebuildsTestContext;
  let userId: string;
  const arranged = new Map<Case, Arranged>();

  async function arrange(c: Case): Promise<Arranged> {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 1 });
    const old = new Date(ctx.clock.now().getTime() - 2 * HOUR); // outside the backoff lookback

    // Every build of the case: on the preset's version, two hours ago.
    const build = (workspaceId: string, transition: Transition, jobStatus: JobStatus, initiatorId?: string) =>
      insertBuild(ds, {
        workspaceId,
        transition,
        jobStatus,
        templateVersionId: versionId,
        presetId,
        createdAt: old,
        ...(initiatorId ? { initiatorId } : {}),
      });

    // The prebuild under test; build 1 is a start, so a stop/delete is build 2 after a succeeded start.
    const existing = await insertWorkspace(ds, { templateId, presetId, createdAt: old });
    if (c.transition !== 'start') await build(existing, 'start', 'succeeded');
    await build(existing, c.transition, c.status);

    // Bystanders that must never be touched: a stopped prebuild and a user's running workspace of the preset.
    const stopped = await insertWorkspace(ds, { templateId, presetId, createdAt: old });
    await build(stopped, 'start', 'succeeded');
    await build(stopped, 'stop', 'succeeded');
    const users = await insertWorkspace(ds, { templateId, presetId, ownerId: userId, createdAt: old });
    await build(users, 'start', 'succeeded', userId);

    if (!c.activeVersion) await setActiveVersion(ds, templateId, await insertVersion(ds, templateId, {}));
    if (c.templateDeleted)
      await ds.query(`UPDATE prebuilds.templates SET deleted = true WHERE id = $1`, [templateId]);
    const before = await latestBuilds(ds, [existing, stopped, users]);

    return { templateId, existing, stopped, users, before };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    // The matrix is about reconciliation: without the stale-job sweep that full cycles also run, a job this test
    // left `running` two hours ago stays running instead of timing out.
    ctx = await createPrebuildsTestContext(db.url, { jobTimeoutMs: 0 });
    userId = await insertUser(ctx.dataSource, { username: 'matrix-user' });
    for (const c of cases) arranged.set(c, await arrange(c));
    for (let cycle = 0; cycle < 8; cycle++) {
      const result = await ctx.reconciler.reconcileAll();
      expect(result.acquired).toBe(true);
      expect(result.presets.flatMap((p) => p.errors)).toEqual([]);
      ctx.clock.advance(1000);
    }
  });
  afterAll(async () => {
    await ctx.close();
    await db.drop();
  });

  it.each(cases)(
    'latest build $transition/$status, version active=$activeVersion, template deleted=$templateDeleted',
    async (c) => {
      const ds = ctx.dataSource;
      const { templateId, existing, stopped, users, before } = arranged.get(c)!;
      const want = expected(c);
      const [{ created }] = await ds.query(
        `SELECT count(*)::int AS created FROM prebuilds.workspaces
          WHERE template_id = $1 AND owner_id = $2 AND id <> ALL($3::uuid[])`,
        [templateId, PREBUILDS_SYSTEM_USER_ID, [existing, stopped]],
      );
      expect(created).toBe(want.creates);

      const after = await latestBuilds(ds, [existing, stopped, users]);
      expect(after[stopped]).toEqual(before[stopped]);
      expect(after[users]).toEqual(before[users]);
      if (want.existing === 'kept') expect(after[existing]).toEqual(before[existing]);
      if (want.existing === 'deleted')
        expect(after[existing]).toMatchObject({ transition: 'delete', deleted: false });
      if (want.existing === 'canceled') {
        expect(after[existing]).toMatchObject({
          transition: 'delete',
          jobStatus: 'succeeded',
          deleted: true,
        });
        const [{ status }] = await ds.query(
          `SELECT j.job_status AS status FROM prebuilds.workspace_builds b JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id
            WHERE b.workspace_id = $1 AND b.build_number = 1`,
          [existing],
        );
        expect(status).toBe('canceled');
      }
    },
  );
});

/** By workspace id, its latest build as a cycle would change it. */
type LatestBuilds = Record<
  string,
  { transition: string; jobStatus: string; buildNumber: number; deleted: boolean }
>;

async function latestBuilds(
  ds: PrebuildsTestContext['dataSource'],
  workspaceIds: string[],
): Promise<LatestBuilds> {
  const rows: { id: string; transition: string; jobStatus: string; buildNumber: number; deleted: boolean }[] =
    await ds.query(
      `SELECT w.id, b.transition, j.job_status AS "jobStatus", b.build_number AS "buildNumber", w.deleted
         FROM prebuilds.workspaces w JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id
        WHERE w.id = ANY($1::uuid[])`,
      [workspaceIds],
    );
  return Object.fromEntries(rows.map(({ id, ...rest }) => [id, rest]));
}
