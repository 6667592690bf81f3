import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../../src/prebuilds/clock/clock.js';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { ProvisionerJobError } from '../../src/prebuilds/provisioner/provisioner-job.errors.js';
import { ProvisionerJobRepository } from '../../src/prebuilds/database/provisioner-job.repository.js';
import { ProvisionerJobService } from '../../src/prebuilds/provisioner/provisioner-job.service.js';
import { PrebuildsChannel } from '../../src/prebuilds/pubsub/channels.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import {
  agentRows,
  insertTemplateRows,
  insertWorkspaceWithJob,
  jobRow,
  type TemplateRows,
} from './job-rows.js';
import { RecordingPubsub } from '../support/recording-pubsub.js';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { resolvePrebuildsOptions } from '../../src/prebuilds/prebuilds.options.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const clock: Clock = { now: () => new Date(NOW) };

const minutes = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, n));

describe('ProvisionerJobService', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let pubsub: RecordingPubsub;
  let service: ProvisionerJobService;
  let template: TemplateRows;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase();
    ds = new DataSource(testDataSourceOptions(db.url, { poolSize: 25 }));
    await ds.initialize();
    template = await insertTemplateRows(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  beforeEach(async () => {
    pubsub = new RecordingPubsub();
    service = new ProvisionerJobService(
      ds,
      new ProvisionerJobRepository(ds, new PrebuildsNamespace()),
      clock,
      pubsub,
    );
    // Each test sees only the pending jobs it wrote: older tests' leftovers are canceled out of the queue.
    await ds.query(
      `UPDATE prebuilds.provisioner_jobs SET canceled_at = $1, completed_at = $1 WHERE started_at IS NULL AND canceled_at IS NULL`,
      [NOW],
    );
  });

  it('acquires the oldest pending job first, with its build and parameters', async () => {
    const newer = await insertWorkspaceWithJob(ds, template, { createdAt: minutes(5) });
    const older = await insertWorkspaceWithJob(ds, template, {
      createdAt: minutes(1),
      parameters: { region: 'eu', size: 'large' },
    });

    const first = await service.acquireNext('worker-a');
    expect(first).toEqual({
      jobId: older.jobId,
      buildId: older.buildId,
      workspaceId: older.workspaceId,
      templateId: template.templateId,
      templateVersionId: template.versionId,
      presetId: template.presetId,
      transition: 'start',
      buildNumber: 1,
      parameters: { region: 'eu', size: 'large' },
      attempt: 1,
      leaseExpiresAt: expect.any(Date),
      tags: {},
    });
    expect(await jobRow(ds, older.jobId)).toMatchObject({ status: 'running', workerId: 'worker-a' });
    const [{ startedAt }] = await ds.query(
      `SELECT started_at AS "startedAt" FROM prebuilds.provisioner_jobs WHERE id = $1`,
      [older.jobId],
    );
    expect(startedAt).toEqual(NOW);

    expect((await service.acquireNext('worker-b'))?.jobId).toBe(newer.jobId);
    expect(await service.acquireNext('worker-c')).toBeNull();
  });

  it('hands each of 10 jobs to exactly one of 20 concurrent acquirers', async () => {
    const jobs = await Promise.all(
      Array.from({ length: 10 }, (_, n) => insertWorkspaceWithJob(ds, template, { createdAt: minutes(n) })),
    );
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, n) => service.acquireNext(`worker-${n}`)),
    );

    const acquired = results.filter((job) => job !== null).map((job) => job.jobId);
    expect(acquired).toHaveLength(10);
    expect(new Set(acquired)).toEqual(new Set(jobs.map((job) => job.jobId)));
    expect(results.filter((job) => job === null)).toHaveLength(10);
    const owners: { count: number }[] = await ds.query(
      `SELECT count(DISTINCT worker_id)::int AS count FROM prebuilds.provisioner_jobs WHERE id = ANY($1)`,
      [jobs.map((job) => job.jobId)],
    );
    expect(owners[0].count).toBe(10);
  });

  it('never acquires a canceled job', async () => {
    const canceled = await insertWorkspaceWithJob(ds, template, {
      createdAt: minutes(0),
      canceledAt: minutes(1),
    });
    const canceledDone = await insertWorkspaceWithJob(ds, template, {
      createdAt: minutes(0),
      canceledAt: minutes(1),
      completedAt: minutes(1),
    });
    const pending = await insertWorkspaceWithJob(ds, template, { createdAt: minutes(2) });

    expect((await service.acquireNext('w'))?.jobId).toBe(pending.jobId);
    expect(await service.acquireNext('w')).toBeNull();
    expect((await jobRow(ds, canceled.jobId)).workerId).toBeNull();
    expect((await jobRow(ds, canceledDone.jobId)).status).toBe('canceled');
  });

  it('completes a start job with one agent in lifecycle created, then reports it ready', async () => {
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    await service.acquireNext('w');
    await service.complete(jobId, {});

    expect(await jobRow(ds, jobId)).toMatchObject({ status: 'succeeded', error: null, completedAt: NOW });
    const [agent] = await agentRows(ds, jobId);
    expect(agent).toMatchObject({ lifecycleState: 'created', readyAt: null });
    expect(await service.agentsOfJob(jobId)).toEqual([agent.id]);

    await service.reportAgentLifecycle(agent.id, 'starting');
    expect((await agentRows(ds, jobId))[0]).toMatchObject({ lifecycleState: 'starting', readyAt: null });
    await service.reportAgentLifecycle(agent.id, 'ready');
    expect((await agentRows(ds, jobId))[0]).toMatchObject({ lifecycleState: 'ready', readyAt: NOW });
  });

  it('records a failed job with its error and no agent', async () => {
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    await service.acquireNext('w');
    await service.complete(jobId, { error: 'terraform apply failed' });

    expect(await jobRow(ds, jobId)).toMatchObject({ status: 'failed', error: 'terraform apply failed' });
    expect(await agentRows(ds, jobId)).toEqual([]);
  });

  it('marks the workspace deleted when a delete job succeeds, and not when it fails', async () => {
    const ok = await insertWorkspaceWithJob(ds, template, { transition: 'delete', createdAt: minutes(0) });
    const bad = await insertWorkspaceWithJob(ds, template, { transition: 'delete', createdAt: minutes(1) });
    await service.acquireNext('w');
    await service.acquireNext('w');
    await service.complete(ok.jobId);
    await service.complete(bad.jobId, { error: 'boom' });

    const rows: { id: string; deleted: boolean }[] = await ds.query(
      `SELECT id, deleted FROM prebuilds.workspaces WHERE id = ANY($1)`,
      [[ok.workspaceId, bad.workspaceId]],
    );
    expect(Object.fromEntries(rows.map((row) => [row.id, row.deleted]))).toEqual({
      [ok.workspaceId]: true,
      [bad.workspaceId]: false,
    });
    expect(await agentRows(ds, ok.jobId)).toEqual([]);
  });

  it('refuses to complete a job that is not running', async () => {
    const pending = await insertWorkspaceWithJob(ds, template);
    await expect(service.complete(pending.jobId)).rejects.toMatchObject({
      name: 'ProvisionerJobError',
      code: 'job_not_running',
    });
    expect((await jobRow(ds, pending.jobId)).status).toBe('pending');

    await service.acquireNext('w');
    await service.complete(pending.jobId);
    await expect(service.complete(pending.jobId, { error: 'late' })).rejects.toMatchObject({
      code: 'job_already_completed',
    });
    expect(await jobRow(ds, pending.jobId)).toMatchObject({ status: 'succeeded', error: null });
    expect(await agentRows(ds, pending.jobId)).toHaveLength(1);

    await expect(service.complete('00000000-0000-4000-8000-00000000dead')).rejects.toBeInstanceOf(
      ProvisionerJobError,
    );
    expect(pubsub.published).toHaveLength(1);
  });

  it('ends a job canceled while it ran as canceled, without an agent', async () => {
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    await service.acquireNext('w');
    await ds.query(`UPDATE prebuilds.provisioner_jobs SET canceled_at = $2 WHERE id = $1`, [jobId, NOW]);
    await service.complete(jobId);

    expect((await jobRow(ds, jobId)).status).toBe('canceled');
    expect(await agentRows(ds, jobId)).toEqual([]);
  });

  it('publishes JobCompleted with the template and preset after commit', async () => {
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    await service.acquireNext('w');
    await service.complete(jobId, { error: 'x' });

    expect(pubsub.published).toEqual([
      {
        channel: PrebuildsChannel.JobCompleted,
        payload: { templateId: template.templateId, presetId: template.presetId },
      },
    ]);
  });

  it('completes the same way when every publish fails', async () => {
    const failing = new ProvisionerJobService(
      ds,
      new ProvisionerJobRepository(ds, new PrebuildsNamespace()),
      clock,
      new RecordingPubsub(true),
    );
    const start = await insertWorkspaceWithJob(ds, template, { createdAt: minutes(0) });
    const del = await insertWorkspaceWithJob(ds, template, { transition: 'delete', createdAt: minutes(1) });
    await failing.acquireNext('w');
    await failing.acquireNext('w');

    await expect(failing.complete(start.jobId)).resolves.toEqual({ status: 'succeeded', repeated: false });
    await expect(failing.complete(del.jobId)).resolves.toEqual({ status: 'succeeded', repeated: false });

    expect((await jobRow(ds, start.jobId)).status).toBe('succeeded');
    expect(await agentRows(ds, start.jobId)).toHaveLength(1);
    const [{ deleted }] = await ds.query(`SELECT deleted FROM prebuilds.workspaces WHERE id = $1`, [
      del.workspaceId,
    ]);
    expect(deleted).toBe(true);
  });

  it('rejects lifecycle reports for unknown agents and unknown states', async () => {
    await expect(
      service.reportAgentLifecycle('00000000-0000-4000-8000-00000000beef', 'ready'),
    ).rejects.toMatchObject({ code: 'agent_not_found' });
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    await service.acquireNext('w');
    await service.complete(jobId);
    const [agentId] = await service.agentsOfJob(jobId);
    await expect(service.reportAgentLifecycle(agentId, 'created' as never)).rejects.toMatchObject({
      code: 'invalid_lifecycle_state',
    });
    await service.reportAgentLifecycle(agentId, 'start_error');
    expect((await agentRows(ds, jobId))[0].lifecycleState).toBe('start_error');
  });
});

describe('ProvisionerJobService leases (database time)', () => {
  const LEASE_MS = 600;
  let db: TestDatabase;
  let ds: DataSource;
  let template: TemplateRows;
  let pubsub: RecordingPubsub;

  const serviceWith = (clockOf: Clock = clock) =>
    new ProvisionerJobService(
      ds,
      new ProvisionerJobRepository(ds, new PrebuildsNamespace()),
      clockOf,
      pubsub,
      undefined,
      resolvePrebuildsOptions({
        provisionerLeaseMs: LEASE_MS,
        provisionerHeartbeatMs: 100,
        provisionerMaxAttempts: 2,
      }),
    );

  /** Sweeps until `jobId` was recovered, within a deadline (the lease must expire in database time first). */
  async function sweepUntilRecovered(service: ProvisionerJobService, jobId: string): Promise<void> {
    await waitFor(
      async () => {
        await service.recoverExpiredLeases();
        const [row] = await ds.query(
          `SELECT started_at IS NULL OR completed_at IS NOT NULL AS recovered FROM prebuilds.provisioner_jobs WHERE id = $1`,
          [jobId],
        );
        return row.recovered as boolean;
      },
      { timeoutMs: 10 * LEASE_MS, intervalMs: 50, message: `job ${jobId} recovered by the lease sweep` },
    );
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase();
    ds = new DataSource(testDataSourceOptions(db.url, { poolSize: 10 }));
    await ds.initialize();
    template = await insertTemplateRows(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  beforeEach(async () => {
    pubsub = new RecordingPubsub();
    await ds.query(
      `UPDATE prebuilds.provisioner_jobs SET canceled_at = $1, completed_at = $1 WHERE completed_at IS NULL`,
      [NOW],
    );
  });

  it('gives the acquirer a lease of now() + lease, which heartbeats renew and only the holder may renew', async () => {
    const service = serviceWith();
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    const job = await service.acquireNext('w1');
    expect(job).toMatchObject({ jobId, attempt: 1 });
    const [{ dbNow }] = await ds.query(`SELECT now() AS "dbNow"`);
    const leaseLeft = job!.leaseExpiresAt.getTime() - new Date(dbNow).getTime();
    expect(leaseLeft).toBeGreaterThan(LEASE_MS - 500);
    expect(leaseLeft).toBeLessThanOrEqual(LEASE_MS);

    const renewed = await service.heartbeat(jobId, 'w1');
    expect(renewed.canceled).toBe(false);
    expect(renewed.leaseExpiresAt.getTime()).toBeGreaterThanOrEqual(job!.leaseExpiresAt.getTime());
    await expect(service.heartbeat(jobId, 'w2')).rejects.toMatchObject({ code: 'lease_lost' });
    await expect(service.complete(jobId, 'w2')).rejects.toMatchObject({ code: 'lease_lost' });
    await expect(service.heartbeat('00000000-0000-4000-8000-00000000dead', 'w1')).rejects.toMatchObject({
      code: 'job_not_found',
    });
    await service.complete(jobId, 'w1');
    expect(await jobRow(ds, jobId)).toMatchObject({ status: 'succeeded', attempts: 1, failureKind: null });
  });

  it('puts a job whose lease expired back in the queue, refuses the old holder, and takes the same completion twice as a no-op', async () => {
    const service = serviceWith();
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    await service.acquireNext('old');
    await sweepUntilRecovered(service, jobId);
    expect(await jobRow(ds, jobId)).toMatchObject({ status: 'pending', attempts: 1, workerId: null });
    // Provisioners wake up for the job itself (JobPostedMessage), as when it was first posted.
    expect(pubsub.published).toContainEqual({ channel: PrebuildsChannel.JobPosted, payload: { jobId } });

    await expect(service.heartbeat(jobId, 'old')).rejects.toMatchObject({ code: 'lease_lost' });
    await expect(service.complete(jobId, 'old')).rejects.toMatchObject({ code: 'lease_lost' });

    const again = await service.acquireNext('new');
    expect(again).toMatchObject({ jobId, attempt: 2 });
    await expect(service.complete(jobId, 'old', { error: 'late' })).rejects.toMatchObject({
      code: 'lease_lost',
    });
    // The older form (no worker) cannot tell holders apart: refused once the job has been re-acquired.
    await expect(service.complete(jobId)).rejects.toMatchObject({ code: 'lease_lost' });
    await service.complete(jobId, 'new');
    await expect(service.complete(jobId, 'new')).resolves.toEqual({ status: 'succeeded', repeated: true });
    await expect(service.complete(jobId, 'new', { error: 'other' })).rejects.toMatchObject({
      code: 'job_already_completed',
    });
    await expect(service.complete(jobId, 'old')).rejects.toMatchObject({ code: 'lease_lost' });
    expect(await agentRows(ds, jobId)).toHaveLength(1);
    expect(await jobRow(ds, jobId)).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('fails a job as provisioner_lost after the last attempt, an infrastructure failure', async () => {
    const service = serviceWith();
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    await service.acquireNext('a');
    await sweepUntilRecovered(service, jobId);
    await service.acquireNext('b');
    await sweepUntilRecovered(service, jobId);
    expect(await jobRow(ds, jobId)).toMatchObject({
      status: 'failed',
      attempts: 2,
      failureKind: 'provisioner_lost',
      error: expect.stringContaining('provisioner lost'),
    });
    await expect(service.complete(jobId, 'b')).rejects.toMatchObject({ code: 'lease_lost' });
  });

  it('records a failure the provisioner reported as kind build', async () => {
    const service = serviceWith();
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    await service.acquireNext('w');
    await service.complete(jobId, 'w', { error: 'apply failed' });
    expect(await jobRow(ds, jobId)).toMatchObject({ status: 'failed', failureKind: 'build' });
  });

  it('hands out user jobs before older prebuild jobs', async () => {
    const service = serviceWith();
    const prebuild = await insertWorkspaceWithJob(ds, template, { createdAt: minutes(1) });
    const user = await insertWorkspaceWithJob(ds, template, { createdAt: minutes(9), initiatorId: 'user-1' });
    expect((await service.acquireNext('w'))?.jobId).toBe(user.jobId);
    expect((await service.acquireNext('w'))?.jobId).toBe(prebuild.jobId);
  });

  it("never fails or recovers another replica's healthy jobs by a skewed clock (35 min fast)", async () => {
    const healthy = serviceWith();
    const skewed = serviceWith({ now: () => new Date(Date.now() + 35 * 60_000) });
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    await healthy.acquireNext('w');
    expect(await skewed.failStaleJobs(30 * 60_000)).toBe(0);
    expect(await skewed.recoverExpiredLeases()).toBe(0);
    expect(await jobRow(ds, jobId)).toMatchObject({ status: 'running', workerId: 'w' });
    await healthy.complete(jobId, 'w');
  });

  it('fails a job held past the job timeout as kind timeout (database time)', async () => {
    const service = serviceWith();
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    await service.acquireNext('w');
    await ds.query(
      `UPDATE prebuilds.provisioner_jobs SET acquired_at = now() - interval '31 minutes' WHERE id = $1`,
      [jobId],
    );
    expect(await service.failStaleJobs(30 * 60_000)).toBe(1);
    expect(await jobRow(ds, jobId)).toMatchObject({ status: 'failed', failureKind: 'timeout' });
    await expect(service.complete(jobId, 'w')).rejects.toMatchObject({ code: 'lease_lost' });
  });
});
