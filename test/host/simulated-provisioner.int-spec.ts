import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { loadHostConfig } from '../../src/host/config/host-config.js';
import {
  SIMULATED_FAILURE,
  SimulatedProvisionerService,
  type SimulatedProvisionerSettings,
} from '../../src/host/provisioner/simulated-provisioner.service.js';
import type { Clock } from '../../src/prebuilds/clock/clock.js';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { ProvisionerJobRepository } from '../../src/prebuilds/database/provisioner-job.repository.js';
import { ProvisionerJobService } from '../../src/prebuilds/provisioner/provisioner-job.service.js';
import { PrebuildsChannel } from '../../src/prebuilds/pubsub/channels.js';
import {
  agentRows,
  insertTemplateRows,
  insertWorkspaceWithJob,
  jobRow,
  type TemplateRows,
} from '../provisioner/job-rows.js';
import { findLatestBuildDrift } from '../support/latest-build-drift.js';
import { RecordingPubsub } from '../support/recording-pubsub.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { holdsThrough, waitFor } from '../support/wait-for.js';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { resolvePrebuildsOptions } from '../../src/prebuilds/prebuilds.options.js';

const clock: Clock = { now: () => new Date('2026-06-01T12:00:00Z') };

/** Waits (10 s at most) for `check`; named after what the old helper did, over waitFor. */
const eventually = (check: () => Promise<boolean>, timeoutMs = 10_000) => waitFor(check, { timeoutMs });

describe('SimulatedProvisionerService', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let template: TemplateRows;
  let pubsub: RecordingPubsub;
  let jobs: ProvisionerJobService;
  let provisioner: SimulatedProvisionerService | null = null;

  function startProvisioner(
    options: Partial<{ enabled: boolean; buildMs: number; failureRate: number; concurrency: number }>,
    settings: Partial<SimulatedProvisionerSettings> = {},
  ): SimulatedProvisionerService {
    const config = loadHostConfig({});
    config.provisioner = { enabled: true, buildMs: 0, failureRate: 0, concurrency: 2, ...options };
    provisioner = new SimulatedProvisionerService(config, jobs, pubsub, settings);
    provisioner.onApplicationBootstrap();
    return provisioner;
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase();
    ds = await new DataSource(testDataSourceOptions(db.url, { poolSize: 10 })).initialize();
    template = await insertTemplateRows(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  beforeEach(() => {
    pubsub = new RecordingPubsub();
    jobs = new ProvisionerJobService(
      ds,
      new ProvisionerJobRepository(ds, new PrebuildsNamespace()),
      clock,
      pubsub,
    );
  });
  afterEach(async () => {
    await provisioner?.beforeApplicationShutdown();
    provisioner = null;
    // Every acquire, heartbeat, completion and agent update above went through the job triggers that keep the
    // workspace's copy of its latest build (migration 1765600000000-LatestBuildState).
    expect(await findLatestBuildDrift(ds)).toEqual([]);
  });

  it('builds a pending start job and brings its agent to ready', async () => {
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    startProvisioner({});

    await eventually(async () => (await agentRows(ds, jobId))[0]?.lifecycleState === 'ready');
    expect(await jobRow(ds, jobId)).toMatchObject({ status: 'succeeded' });
    expect((await jobRow(ds, jobId)).workerId).toMatch(/^sim-.+-\d+-\d+$/);
  });

  it('heartbeats its lease through a build longer than the lease, and retries a completion that failed', async () => {
    jobs = new ProvisionerJobService(
      ds,
      new ProvisionerJobRepository(ds, new PrebuildsNamespace()),
      clock,
      pubsub,
      undefined,
      resolvePrebuildsOptions({ provisionerLeaseMs: 500, provisionerHeartbeatMs: 100 }),
    );
    // The first completion fails as a database outage would; the retry goes through.
    const complete = jobs.complete.bind(jobs) as (...args: unknown[]) => Promise<unknown>;
    let failures = 1;
    (jobs as unknown as { complete: (...args: unknown[]) => Promise<unknown> }).complete = (...args) =>
      failures-- > 0 ? Promise.reject(new Error('Connection terminated unexpectedly')) : complete(...args);
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    startProvisioner({ concurrency: 1, buildMs: 1_500 });
    // Sweeping all along: a live worker's job is never recovered, though the build outlasts three leases.
    await eventually(async () => {
      expect(await jobs.recoverExpiredLeases()).toBe(0);
      return (await jobRow(ds, jobId)).status === 'succeeded';
    });
    expect(await jobRow(ds, jobId)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(failures).toBe(-1);
  });

  it('builds delete jobs too', async () => {
    const { jobId, workspaceId } = await insertWorkspaceWithJob(ds, template, { transition: 'delete' });
    startProvisioner({});

    await eventually(async () => (await jobRow(ds, jobId)).status === 'succeeded');
    const [{ deleted }] = await ds.query(`SELECT deleted FROM prebuilds.workspaces WHERE id = $1`, [
      workspaceId,
    ]);
    expect(deleted).toBe(true);
  });

  it('fails every job at failure rate 1', async () => {
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    startProvisioner({ failureRate: 1 });

    await eventually(async () => (await jobRow(ds, jobId)).status !== 'pending');
    await eventually(async () => (await jobRow(ds, jobId)).status === 'failed');
    expect((await jobRow(ds, jobId)).error).toBe(SIMULATED_FAILURE);
    expect(await agentRows(ds, jobId)).toEqual([]);
  });

  it('wakes on JobPosted instead of waiting for the poll', async () => {
    // Count the worker's looks at the queue: one that finds nothing means it is about to idle.
    let emptyLooks = 0;
    const acquireNext = jobs.acquireNext.bind(jobs);
    jobs.acquireNext = async (workerId) => {
      const job = await acquireNext(workerId);
      if (!job) emptyLooks++;
      return job;
    };
    startProvisioner({ concurrency: 1 }, { idlePollMs: 60_000 });
    await waitFor(() => emptyLooks === 1, { timeoutMs: 5_000, message: 'the worker found the queue empty' });
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    // Idle on a 60 s poll, the worker does not see the job on its own...
    await holdsThrough(async () => (await jobRow(ds, jobId)).status === 'pending', {
      windowMs: 300,
      message: 'the unposted job stays pending',
    });

    expect(emptyLooks).toBe(1);

    // ...until the job is posted.
    await pubsub.publish(PrebuildsChannel.JobPosted, { jobId });
    await waitFor(async () => (await jobRow(ds, jobId)).status === 'succeeded', {
      timeoutMs: 3_000,
      message: 'the posted job was built',
    });
  });

  it('does nothing when disabled', async () => {
    const { jobId } = await insertWorkspaceWithJob(ds, template);
    startProvisioner({ enabled: false });
    await holdsThrough(async () => (await jobRow(ds, jobId)).status === 'pending', {
      windowMs: 300,
      message: 'the job stays pending',
    });
    expect(pubsub.subscribers(PrebuildsChannel.JobPosted)).toBe(0);
    // Leave the queue empty for the next test.
    await ds.query(
      `UPDATE prebuilds.provisioner_jobs SET canceled_at = $2, completed_at = $2 WHERE id = $1`,
      [jobId, clock.now()],
    );
  });

  it('waits on stop for the build in flight, then stops taking jobs', async () => {
    let release: () => void = () => undefined;
    let building = false;
    const sleepGate = () =>
      new Promise<void>((resolve) => {
        building = true;
        release = resolve;
      });
    const first = await insertWorkspaceWithJob(ds, template);
    startProvisioner({ concurrency: 1, buildMs: 5_000 }, { sleep: sleepGate });
    await eventually(async () => building);

    let stopped = false;
    const stopping = provisioner!.stop().then(() => {
      stopped = true;
    });
    // Stop waits as long as the build runs.
    await holdsThrough(async () => !stopped && (await jobRow(ds, first.jobId)).status === 'running', {
      windowMs: 200,
      message: 'stop waits for the running build',
    });

    const second = await insertWorkspaceWithJob(ds, template);
    release();
    await stopping;
    expect(stopped).toBe(true);
    expect((await jobRow(ds, first.jobId)).status).toBe('succeeded');
    expect((await agentRows(ds, first.jobId))[0].lifecycleState).toBe('ready');
    expect((await jobRow(ds, second.jobId)).status).toBe('pending');
    expect(pubsub.subscribers(PrebuildsChannel.JobPosted)).toBe(0);
    await provisioner!.stop();
  });

  it('gives up waiting after the shutdown timeout', async () => {
    await ds.query(
      `UPDATE prebuilds.provisioner_jobs SET canceled_at = $1, completed_at = $1 WHERE started_at IS NULL`,
      [clock.now()],
    );
    let building = false;
    await insertWorkspaceWithJob(ds, template);
    startProvisioner(
      { concurrency: 1 },
      {
        shutdownTimeoutMs: 100,
        sleep: () => {
          building = true;
          return new Promise(() => undefined);
        },
      },
    );
    await eventually(async () => building);
    const started = Date.now();
    await provisioner!.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
