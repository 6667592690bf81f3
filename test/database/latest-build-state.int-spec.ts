import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { insertBuild, insertPreset, insertTemplate, insertWorkspace } from '../support/fixtures.js';
import { findLatestBuildDrift } from '../support/latest-build-drift.js';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { holdsThrough } from '../support/wait-for.js';

/**
 * The copy of each live workspace's latest build and job on the workspace row (migration
 * 1765600000000-LatestBuildState), which the claim, the snapshot and the status read instead of joining: whoever
 * writes the build, the job or the pointer, and in whatever order, the copy ends equal to the real rows.
 */
describe('the latest build state on a workspace', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let other: pg.Client;
  let templateId: string;
  let versionId: string;
  let presetId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource(testDataSourceOptions(db.url, { poolSize: 4 })).initialize();
    other = new pg.Client({ connectionString: db.url });
    await other.connect();
    ({ templateId, versionId } = await insertTemplate(ds, {}));
    presetId = await insertPreset(ds, versionId, { desiredInstances: 1 });
  });
  afterAll(async () => {
    await other?.end();
    await ds?.destroy();
    await db?.drop();
  });

  /** A build and its pending job, written as a writer outside the module would: the pointer left to the caller. */
  async function writePendingBuild(
    runner: Pick<DataSource, 'query'>,
    b: { buildId: string; jobId: string; workspaceId: string; buildNumber: number; transition: string },
  ): Promise<void> {
    await runner.query(
      `INSERT INTO prebuilds.provisioner_jobs (id, created_at, updated_at) VALUES ($1, now(), now())`,
      [b.jobId],
    );
    await runner.query(
      `INSERT INTO prebuilds.workspace_builds (id, workspace_id, build_number, transition, template_version_id,
                                               preset_id, initiator_id, job_id)
       VALUES ($1, $2, $3, $4, $5, $6, 'someone', $7)`,
      [b.buildId, b.workspaceId, b.buildNumber, b.transition, versionId, presetId, b.jobId],
    );
  }

  const copyOf = async (workspaceId: string) =>
    (
      await ds.query(
        `SELECT latest_transition AS transition, latest_build_number AS "buildNumber",
                latest_job_status AS "jobStatus", latest_agents_ready AS ready
           FROM prebuilds.workspaces WHERE id = $1`,
        [workspaceId],
      )
    )[0];

  const jobOf = async (workspaceId: string): Promise<string> =>
    (
      await ds.query(
        `SELECT b.job_id AS "jobId" FROM prebuilds.workspaces w JOIN prebuilds.workspace_builds b
            ON b.id = w.latest_build_id WHERE w.id = $1`,
        [workspaceId],
      )
    )[0].jobId;

  it('follows a build written after its workspace, then its job from pending to succeeded and its agents to ready', async () => {
    const workspaceId = await insertWorkspace(ds, { templateId, presetId });
    const { jobId } = await insertBuild(ds, {
      workspaceId,
      transition: 'start',
      jobStatus: 'pending',
      templateVersionId: versionId,
      presetId,
    });
    expect(await copyOf(workspaceId)).toEqual({
      transition: 'start',
      buildNumber: 1,
      jobStatus: 'pending',
      ready: false,
    });

    await ds.query(
      `UPDATE prebuilds.provisioner_jobs SET started_at = now(), worker_id = 'w1' WHERE id = $1`,
      [jobId],
    );
    expect((await copyOf(workspaceId)).jobStatus).toBe('running');
    const [agent] = await ds.query(
      `INSERT INTO prebuilds.workspace_agents (job_id, lifecycle_state, created_at) VALUES ($1, 'starting', now())
       RETURNING id`,
      [jobId],
    );
    await ds.query(`UPDATE prebuilds.provisioner_jobs SET completed_at = now() WHERE id = $1`, [jobId]);
    expect(await copyOf(workspaceId)).toMatchObject({ jobStatus: 'succeeded', ready: false });
    await ds.query(`UPDATE prebuilds.workspace_agents SET lifecycle_state = 'ready' WHERE id = $1`, [
      agent.id,
    ]);
    expect((await copyOf(workspaceId)).ready).toBe(true);
    expect(await findLatestBuildDrift(ds)).toEqual([]);
  });

  it('moves with the pointer, to a new build and back to an old one, and ignores the jobs it no longer points to', async () => {
    const workspaceId = await insertWorkspace(ds, { templateId, presetId });
    const first = await insertBuild(ds, {
      workspaceId,
      transition: 'start',
      jobStatus: 'succeeded',
      templateVersionId: versionId,
      presetId,
    });
    const second = await insertBuild(ds, {
      workspaceId,
      transition: 'stop',
      jobStatus: 'running',
      templateVersionId: versionId,
      presetId,
    });
    expect(await copyOf(workspaceId)).toEqual({
      transition: 'stop',
      buildNumber: 2,
      jobStatus: 'running',
      ready: false,
    });

    // A late change to the job of the build it left does not leak into the workspace.
    await ds.query(
      `UPDATE prebuilds.provisioner_jobs SET error = 'late', completed_at = now() WHERE id = $1`,
      [first.jobId],
    );
    expect((await copyOf(workspaceId)).jobStatus).toBe('running');

    await ds.query(`UPDATE prebuilds.workspaces SET latest_build_id = $2 WHERE id = $1`, [
      workspaceId,
      first.buildId,
    ]);
    expect(await copyOf(workspaceId)).toMatchObject({
      transition: 'start',
      buildNumber: 1,
      jobStatus: 'failed',
    });
    expect(second.jobId).not.toBe(await jobOf(workspaceId));
    expect(await findLatestBuildDrift(ds)).toEqual([]);
  });

  it('corrects a writer that set the copy wrong before writing the build', async () => {
    const workspaceId = randomUUID();
    const buildId = randomUUID();
    const jobId = randomUUID();
    await ds.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO prebuilds.workspaces (id, organization_id, template_id, owner_id, name, preset_id,
                                           latest_build_id, latest_transition, latest_build_number, latest_job_status)
         SELECT $1, organization_id, id, 'someone', $4, $5, $2, 'delete', 7, 'running'
           FROM prebuilds.templates WHERE id = $3`,
        [workspaceId, buildId, templateId, `wrong-${workspaceId.slice(0, 8)}`, presetId],
      );
      await writePendingBuild(manager, { buildId, jobId, workspaceId, buildNumber: 1, transition: 'start' });
    });
    expect(await copyOf(workspaceId)).toEqual({
      transition: 'start',
      buildNumber: 1,
      jobStatus: 'pending',
      ready: false,
    });
  });

  it('shows the new build when a job update of the old one waits on the pointer move', async () => {
    const workspaceId = await insertWorkspace(ds, { templateId, presetId });
    const old = await insertBuild(ds, {
      workspaceId,
      transition: 'start',
      jobStatus: 'running',
      templateVersionId: versionId,
      presetId,
    });
    // The mover writes a delete build and points the workspace at it, and holds its transaction open...
    const mover = ds.createQueryRunner();
    await mover.connect();
    try {
      await mover.startTransaction();
      const buildId = randomUUID();
      await writePendingBuild(mover, {
        buildId,
        jobId: randomUUID(),
        workspaceId,
        buildNumber: 2,
        transition: 'delete',
      });
      await mover.query(`UPDATE prebuilds.workspaces SET latest_build_id = $2 WHERE id = $1`, [
        workspaceId,
        buildId,
      ]);
      // ...while the old build's provisioner completes its job on another connection: the copy it writes waits on
      // the moved row,
      let completed = false;
      const completion = other
        .query(`UPDATE prebuilds.provisioner_jobs SET completed_at = now() WHERE id = $1`, [old.jobId])
        .then(() => (completed = true));
      await holdsThrough(() => !completed, { windowMs: 300, message: 'the completion waiting' });
      await mover.commitTransaction();
      await completion;
    } finally {
      await mover.release();
    }
    // ...and, re-checked against it, skips it: the workspace shows its delete, not the finished start.
    expect(await copyOf(workspaceId)).toEqual({
      transition: 'delete',
      buildNumber: 2,
      jobStatus: 'pending',
      ready: false,
    });
    expect(await findLatestBuildDrift(ds)).toEqual([]);
  });
});
