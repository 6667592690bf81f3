import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { testDataSourceOptions } from './test-data-source.js';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from '../../src/prebuilds/database/prebuilds-namespace.js';
import {
  insertBuild,
  insertPrebuild,
  insertPreset,
  insertTemplate,
  insertUser,
  insertVersion,
  insertWorkspace,
  setActiveVersion,
  type FixtureJobStatus,
} from './fixtures.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

describe('test fixtures', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource(testDataSourceOptions(db.url, { poolSize: 4 })).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const statuses: FixtureJobStatus[] = ['pending', 'running', 'succeeded', 'failed', 'canceling', 'canceled'];

  it.each(statuses)('derives job_status %s from the job timestamps', async (status) => {
    const { templateId, versionId } = await insertTemplate(ds);
    const workspaceId = await insertWorkspace(ds, { templateId });
    const { jobId } = await insertBuild(ds, {
      workspaceId,
      transition: 'start',
      jobStatus: status,
      templateVersionId: versionId,
    });
    const [job] = await ds.query(`SELECT job_status FROM prebuilds.provisioner_jobs WHERE id = $1`, [jobId]);
    expect(job.job_status).toBe(status);
  });

  it('numbers builds, keeps latest_build_id on the newest, and controls timestamps', async () => {
    const { templateId, versionId } = await insertTemplate(ds);
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 1 });
    const at = new Date('2026-01-02T03:04:05.000Z');
    const workspaceId = await insertWorkspace(ds, { templateId, presetId, createdAt: at });
    const first = await insertBuild(ds, {
      workspaceId,
      transition: 'start',
      jobStatus: 'succeeded',
      templateVersionId: versionId,
      presetId,
      createdAt: at,
    });
    const second = await insertBuild(ds, {
      workspaceId,
      transition: 'stop',
      jobStatus: 'running',
      templateVersionId: versionId,
      presetId,
      createdAt: new Date(at.getTime() + 60_000),
    });
    const builds = await ds.query(
      `SELECT b.id, b.build_number AS "buildNumber", b.transition, b.initiator_id AS "initiatorId",
              b.created_at AS "createdAt", j.started_at AS "startedAt"
         FROM prebuilds.workspace_builds b JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id
        WHERE b.workspace_id = $1 ORDER BY b.build_number`,
      [workspaceId],
    );
    expect(builds).toEqual([
      {
        id: first.buildId,
        buildNumber: 1,
        transition: 'start',
        initiatorId: PREBUILDS_SYSTEM_USER_ID,
        createdAt: at,
        startedAt: at,
      },
      {
        id: second.buildId,
        buildNumber: 2,
        transition: 'stop',
        initiatorId: PREBUILDS_SYSTEM_USER_ID,
        createdAt: new Date(at.getTime() + 60_000),
        startedAt: new Date(at.getTime() + 60_000),
      },
    ]);
    const [workspace] = await ds.query(
      `SELECT latest_build_id AS "latestBuildId", owner_id AS "ownerId", created_at AS "createdAt" FROM prebuilds.workspaces WHERE id = $1`,
      [workspaceId],
    );
    expect(workspace).toEqual({
      latestBuildId: second.buildId,
      ownerId: PREBUILDS_SYSTEM_USER_ID,
      createdAt: at,
    });
  });

  it('gives a succeeded start one ready agent by default, other builds none, and takes explicit agents', async () => {
    const { templateId, versionId } = await insertTemplate(ds);
    const workspaceId = await insertWorkspace(ds, { templateId });
    const agentsOf = async (jobId: string) =>
      (
        await ds.query(
          `SELECT lifecycle_state AS state FROM prebuilds.workspace_agents WHERE job_id = $1 ORDER BY state`,
          [jobId],
        )
      ).map((row: { state: string }) => row.state);
    const base = { workspaceId, templateVersionId: versionId } as const;
    const started = await insertBuild(ds, { ...base, transition: 'start', jobStatus: 'succeeded' });
    const stopping = await insertBuild(ds, { ...base, transition: 'stop', jobStatus: 'pending' });
    const mixed = await insertBuild(ds, {
      ...base,
      transition: 'start',
      jobStatus: 'succeeded',
      agents: ['ready', 'start_error'],
    });
    expect(await agentsOf(started.jobId)).toEqual(['ready']);
    expect(await agentsOf(stopping.jobId)).toEqual([]);
    expect(await agentsOf(mixed.jobId)).toEqual(['ready', 'start_error']);
  });

  it('creates templates with an active version, switches versions, and stores preset configuration', async () => {
    const { templateId, versionId } = await insertTemplate(ds, {
      deprecated: true,
      parameters: [{ name: 'region', required: true }],
    });
    const [template] = await ds.query(
      `SELECT active_version_id, deprecated, deleted FROM prebuilds.templates WHERE id = $1`,
      [templateId],
    );
    expect(template).toEqual({
      active_version_id: versionId,
      deprecated: 'deprecated (fixture)',
      deleted: false,
    });

    const v2 = await insertVersion(ds, templateId, {
      activate: true,
      parameters: [{ name: 'cpu', type: 'number' }],
    });
    const v3 = await insertVersion(ds, templateId);
    const active = async () =>
      (
        await ds.query(`SELECT active_version_id AS id FROM prebuilds.templates WHERE id = $1`, [templateId])
      )[0].id;
    expect(await active()).toBe(v2);
    await setActiveVersion(ds, templateId, v3);
    expect(await active()).toBe(v3);

    const reset = new Date('2026-03-01T00:00:00Z');
    const presetId = await insertPreset(ds, v2, {
      name: 'eu',
      desiredInstances: 2,
      ttlSeconds: 60,
      timezone: 'Europe/Berlin',
      status: 'hard_limited',
      failureResetAt: reset,
      parameters: { cpu: '4' },
      schedules: [
        { cron: '* 9-17 * * 1-5', instances: 3 },
        { cron: '* 18-20 * * 1-5', instances: 1 },
      ],
    });
    const [preset] = await ds.query(
      `SELECT name, desired_instances, ttl_seconds, scheduling_timezone, prebuild_status, failure_reset_at
         FROM prebuilds.template_version_presets WHERE id = $1`,
      [presetId],
    );
    expect(preset).toEqual({
      name: 'eu',
      desired_instances: 2,
      ttl_seconds: 60,
      scheduling_timezone: 'Europe/Berlin',
      prebuild_status: 'hard_limited',
      failure_reset_at: reset,
    });
    expect(
      await ds.query(
        `SELECT ordinal, cron_expression, desired_instances FROM prebuilds.prebuild_schedules WHERE preset_id = $1 ORDER BY ordinal`,
        [presetId],
      ),
    ).toEqual([
      { ordinal: 0, cron_expression: '* 9-17 * * 1-5', desired_instances: 3 },
      { ordinal: 1, cron_expression: '* 18-20 * * 1-5', desired_instances: 1 },
    ]);
    expect(
      await ds.query(
        `SELECT name, value FROM prebuilds.template_version_preset_parameters WHERE preset_id = $1`,
        [presetId],
      ),
    ).toEqual([{ name: 'cpu', value: '4' }]);
  });

  it('inserts prebuilds owned by the prebuilds user, ready or not, and workspaces of other users', async () => {
    const { templateId, versionId } = await insertTemplate(ds);
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 2 });
    const ready = await insertPrebuild(ds, { templateId, versionId, presetId });
    const notReady = await insertPrebuild(ds, { templateId, versionId, presetId, ready: false });
    const pending = await insertPrebuild(ds, { templateId, versionId, presetId, jobStatus: 'pending' });
    const userId = await insertUser(ds, { roles: ['member'] });
    const owned = await insertWorkspace(ds, { templateId, presetId, ownerId: userId });

    const rows: { id: string; ownerId: string; status: string | null; agents: string[] }[] = await ds.query(
      `SELECT w.id, w.owner_id AS "ownerId", j.job_status AS status,
              COALESCE(array_agg(a.lifecycle_state) FILTER (WHERE a.id IS NOT NULL), '{}') AS agents
         FROM prebuilds.workspaces w
         LEFT JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id
         LEFT JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id
         LEFT JOIN prebuilds.workspace_agents a ON a.job_id = j.id
        WHERE w.id = ANY($1::uuid[])
        GROUP BY w.id, j.job_status`,
      [[ready, notReady, pending, owned]],
    );
    const byId = Object.fromEntries(rows.map(({ id, ...rest }) => [id, rest]));
    expect(byId[ready]).toEqual({
      ownerId: PREBUILDS_SYSTEM_USER_ID,
      status: 'succeeded',
      agents: ['ready'],
    });
    expect(byId[notReady]).toEqual({
      ownerId: PREBUILDS_SYSTEM_USER_ID,
      status: 'succeeded',
      agents: ['starting'],
    });
    expect(byId[pending]).toEqual({ ownerId: PREBUILDS_SYSTEM_USER_ID, status: 'pending', agents: [] });
    expect(byId[owned]).toEqual({ ownerId: userId, status: null, agents: [] });
  });
});
