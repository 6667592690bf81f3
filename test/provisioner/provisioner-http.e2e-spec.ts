import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ProvisionerJobService } from '../../src/prebuilds/provisioner/provisioner-job.service.js';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { API, bearer, dbFingerprint, expectError, UNKNOWN_ID, unique } from '../http/http-kit.js';
import {
  createKey,
  createTaggedTemplate,
  createUserWorkspace,
  daemon,
  eventually,
  reconcile,
} from './provisioner-http-kit.js';

/**
 * Issue 16, the job API over HTTP: daemons with provisioner keys acquire (long poll), heartbeat, append logs,
 * complete and report agents, on the leases of DESIGN.md "Provisioner jobs (leases)". Every test's template carries
 * a tag of its own (`suite`), and its keys that tag, so that no test takes another's jobs.
 */
describe('the provisioner job API', () => {
  let db: TestDatabase;
  let host: HostTestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    // A short lease, so that a lost worker's job comes back within the test.
    host = await createHostTestApp(db.url, { PROVISIONER_LEASE_MS: '800', PROVISIONER_HEARTBEAT_MS: '200' });
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  const workspaceOf = async (id: string) =>
    (await host.http.get(`${API}/workspaces/${id}`).set(bearer(host.tokens.owner)).expect(200)).body;

  it('hands a job to one worker; another worker of the key cannot heartbeat or complete it (409 LEASE_LOST)', async () => {
    const suite = unique('s');
    const template = await createTaggedTemplate(host, { suite });
    const { key } = await createKey(host, { suite });
    const d = daemon(host, key);
    const workspaceId = await createUserWorkspace(host, template.id);

    const acquired = await d.acquire('a').expect(200);
    expect(acquired.body).toEqual(
      expect.objectContaining({
        jobId: expect.any(String),
        workspaceId,
        templateId: template.id,
        transition: 'start',
        buildNumber: 1,
        parameters: { region: 'eu' },
        attempt: 1,
        tags: { suite },
        workerId: 'a',
        leaseExpiresAt: expect.any(String),
        leaseMs: 800,
        heartbeatMs: 200,
      }),
    );
    const { jobId } = acquired.body;
    // Nothing else is queued for this key: the second worker's short poll answers 204, empty.
    const none = await d.acquire('b', 200).expect(204);
    expect(none.text).toBe('');

    const renewed = await d.heartbeat(jobId, 'a').expect(200);
    expect(renewed.body).toEqual({ leaseExpiresAt: expect.any(String), canceled: false });
    expectError((await d.heartbeat(jobId, 'b').expect(409)).body, 409, 'LEASE_LOST');
    expectError((await d.complete(jobId, 'b').expect(409)).body, 409, 'LEASE_LOST');
    expect((await workspaceOf(workspaceId)).latestBuild.jobStatus).toBe('running');

    const done = await d.complete(jobId, 'a', { status: 'succeeded', agentLifecycle: 'ready' }).expect(200);
    expect(done.body).toEqual({
      jobId,
      status: 'succeeded',
      repeated: false,
      agents: [{ id: expect.any(String) }],
    });
    const view = await workspaceOf(workspaceId);
    expect(view.latestBuild.jobStatus).toBe('succeeded');
    expect(view.agents).toEqual([{ id: done.body.agents[0].id, lifecycleState: 'ready' }]);

    // The same completion again (an answer lost on the way): a no-op 200; another outcome: 409.
    const again = await d
      .complete(jobId, 'a', { status: 'succeeded', agentLifecycle: 'starting' })
      .expect(200);
    expect(again.body).toEqual({ ...done.body, repeated: true });
    expect((await workspaceOf(workspaceId)).agents[0].lifecycleState).toBe('ready');
    expectError(
      (await d.complete(jobId, 'a', { status: 'failed', error: 'boom' }).expect(409)).body,
      409,
      'JOB_ALREADY_COMPLETED',
    );
    // After the end there is no lease to renew.
    expectError((await d.heartbeat(jobId, 'a').expect(409)).body, 409, 'LEASE_LOST');
  });

  it("recovers a lost worker's job after its lease and lets the other worker, waiting in a long poll, finish it", async () => {
    const suite = unique('s');
    const template = await createTaggedTemplate(host, { suite });
    const { key } = await createKey(host, { suite });
    const d = daemon(host, key);
    const workspaceId = await createUserWorkspace(host, template.id);
    const lost = await d.acquire('lost').expect(200);
    const { jobId } = lost.body;

    // The survivor waits; the lost worker never heartbeats. A sweep (what every full cycle runs) puts the job back
    // once its lease (800 ms, database time) has expired, and its JobPosted message wakes the waiting poll.
    const survivor = d.acquire('survivor', 20_000).then((res) => res);
    const jobs = host.app.get(ProvisionerJobService);
    await eventually(async () => (await jobs.recoverExpiredLeases()) > 0);
    const taken = await survivor;
    expect(taken.status).toBe(200);
    expect(taken.body).toEqual(expect.objectContaining({ jobId, attempt: 2, workerId: 'survivor' }));

    expectError(
      (await d.complete(jobId, 'lost', { status: 'failed', error: 'late' }).expect(409)).body,
      409,
      'LEASE_LOST',
    );
    expectError(
      (await d.logs(jobId, 'lost', [{ stream: 'stdout', text: 'late' }]).expect(409)).body,
      409,
      'LEASE_LOST',
    );
    await d.complete(jobId, 'survivor').expect(200);
    expect((await workspaceOf(workspaceId)).latestBuild.jobStatus).toBe('succeeded');
  });

  it('wakes a waiting acquire when a job is posted, well before its window ends', async () => {
    const suite = unique('s');
    const template = await createTaggedTemplate(host, { suite });
    const { key } = await createKey(host, { suite });
    const started = Date.now();
    const waiting = daemon(host, key)
      .acquire('w', 20_000)
      .then((res) => res);
    await new Promise((resolve) => setImmediate(resolve));
    const workspaceId = await createUserWorkspace(host, template.id);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body.workspaceId).toBe(workspaceId);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('routes by tags: a prebuild-only key never gets a user job, a user-only key never a prebuild job', async () => {
    const suite = unique('s');
    const template = await createTaggedTemplate(host, { suite }, 2);
    const prebuildsOnly = daemon(host, (await createKey(host, { suite, is_prebuild: 'true' })).key);
    const usersOnly = daemon(host, (await createKey(host, { suite, is_prebuild: 'false' })).key);
    const untagged = daemon(host, (await createKey(host, {})).key);
    await reconcile(host, template.id);
    const userWorkspace = await createUserWorkspace(host, template.id);

    // The user job first for a key that takes both kinds; this one cannot (its tags lack `suite`).
    await untagged.acquire('u', 0).expect(204);

    const userJob = await usersOnly.acquire('u').expect(200);
    expect(userJob.body.workspaceId).toBe(userWorkspace);
    expect(userJob.body.tags).toEqual({ suite });
    await usersOnly.acquire('u', 300).expect(204);

    const prebuildJobs = [
      (await prebuildsOnly.acquire('p1').expect(200)).body,
      (await prebuildsOnly.acquire('p2').expect(200)).body,
    ];
    for (const job of prebuildJobs) {
      expect(job.tags).toEqual({ suite, is_prebuild: 'true' });
      expect(job.presetId).toBe(template.presetId);
      expect(job.workspaceId).not.toBe(userWorkspace);
    }
    await prebuildsOnly.acquire('p3', 300).expect(204);

    // A job of a kind the key cannot see is "not found" to it, whatever the call.
    expectError(
      (await prebuildsOnly.heartbeat(userJob.body.jobId, 'u').expect(404)).body,
      404,
      'JOB_NOT_FOUND',
    );
    expectError(
      (await usersOnly.complete(prebuildJobs[0].jobId, 'p1').expect(404)).body,
      404,
      'JOB_NOT_FOUND',
    );
    expectError((await untagged.complete(userJob.body.jobId, 'u').expect(404)).body, 404, 'JOB_NOT_FOUND');
    expectError((await usersOnly.heartbeat(UNKNOWN_ID, 'u').expect(404)).body, 404, 'JOB_NOT_FOUND');
  });

  it('a key must hold every tag of the template: region eu jobs go to an eu key only', async () => {
    const suite = unique('s');
    const template = await createTaggedTemplate(host, { suite, region: 'eu' });
    const us = daemon(host, (await createKey(host, { suite, region: 'us' })).key);
    const suiteOnly = daemon(host, (await createKey(host, { suite })).key);
    const eu = daemon(host, (await createKey(host, { suite, region: 'eu', gpu: 'no' })).key);
    const workspaceId = await createUserWorkspace(host, template.id);
    await us.acquire('x').expect(204);
    await suiteOnly.acquire('x').expect(204);
    expect((await eu.acquire('x').expect(200)).body.workspaceId).toBe(workspaceId);
  });

  it('reports agent lifecycle for a key that sees the job; 404 for another key or an unknown agent', async () => {
    const suite = unique('s');
    const template = await createTaggedTemplate(host, { suite });
    const d = daemon(host, (await createKey(host, { suite })).key);
    const stranger = daemon(host, (await createKey(host, { other: suite })).key);
    const workspaceId = await createUserWorkspace(host, template.id);
    const { jobId } = (await d.acquire('a').expect(200)).body;
    const agentId = (await d.complete(jobId, 'a').expect(200)).body.agents[0].id;
    expect((await workspaceOf(workspaceId)).agents).toEqual([{ id: agentId, lifecycleState: 'created' }]);

    expect((await d.lifecycle(agentId, 'starting').expect(200)).body).toEqual({
      agentId,
      lifecycleState: 'starting',
    });
    await d.lifecycle(agentId, 'ready').expect(200);
    expect((await workspaceOf(workspaceId)).agents).toEqual([{ id: agentId, lifecycleState: 'ready' }]);
    expectError((await stranger.lifecycle(agentId, 'start_error').expect(404)).body, 404, 'AGENT_NOT_FOUND');
    expectError((await d.lifecycle(UNKNOWN_ID, 'ready').expect(404)).body, 404, 'AGENT_NOT_FOUND');
    const bad = await d.lifecycle(agentId, 'created').expect(400);
    expectError(bad.body, 400, 'VALIDATION_FAILED');
    expect(bad.body.message).toMatch(/state/);
    expect((await workspaceOf(workspaceId)).agents[0].lifecycleState).toBe('ready');
  });

  it('records a failure with its error; the build is failed', async () => {
    const suite = unique('s');
    const template = await createTaggedTemplate(host, { suite });
    const d = daemon(host, (await createKey(host, { suite })).key);
    const workspaceId = await createUserWorkspace(host, template.id);
    const { jobId } = (await d.acquire('a').expect(200)).body;
    const done = await d.complete(jobId, 'a', { status: 'failed', error: 'terraform: exit 1' }).expect(200);
    expect(done.body).toEqual({ jobId, status: 'failed', repeated: false, agents: [] });
    expect((await workspaceOf(workspaceId)).latestBuild.jobStatus).toBe('failed');
    const [row] = await host.dataSource.query(`SELECT error FROM prebuilds.provisioner_jobs WHERE id = $1`, [
      jobId,
    ]);
    expect(row.error).toBe('terraform: exit 1');
  });

  it('takes a released job back at once, for any worker, without counting the attempt', async () => {
    const suite = unique('s');
    const template = await createTaggedTemplate(host, { suite });
    const d = daemon(host, (await createKey(host, { suite })).key);
    const workspaceId = await createUserWorkspace(host, template.id);
    const { jobId } = (await d.acquire('leaving').expect(200)).body;
    expectError(
      (await d.post(`/jobs/${jobId}/release`, { workerId: 'other' }).expect(409)).body,
      409,
      'LEASE_LOST',
    );
    expect((await d.post(`/jobs/${jobId}/release`, { workerId: 'leaving' }).expect(200)).body).toEqual({
      jobId,
      outcome: 'requeued',
    });
    expect((await workspaceOf(workspaceId)).latestBuild.jobStatus).toBe('pending');
    expectError(
      (await d.post(`/jobs/${jobId}/release`, { workerId: 'leaving' }).expect(409)).body,
      409,
      'LEASE_LOST',
    );
    const again = (await d.acquire('next').expect(200)).body;
    expect(again).toEqual(expect.objectContaining({ jobId, attempt: 1 }));
    expectError((await d.complete(jobId, 'leaving').expect(409)).body, 409, 'LEASE_LOST');
    await d.complete(jobId, 'next').expect(200);
  });

  it('hands each job to exactly one of many concurrent acquires', async () => {
    const suite = unique('s');
    const template = await createTaggedTemplate(host, { suite });
    const one = daemon(host, (await createKey(host, { suite })).key);
    const two = daemon(host, (await createKey(host, { suite, spare: 'yes' })).key);
    const workspaces = new Set<string>();
    for (let i = 0; i < 5; i++) workspaces.add(await createUserWorkspace(host, template.id));
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? one : two).acquire(`w${i}`, 0)),
    );
    const taken = answers.filter((res) => res.status === 200).map((res) => res.body.workspaceId);
    expect(taken).toHaveLength(5);
    expect(new Set(taken)).toEqual(workspaces);
    expect(answers.filter((res) => res.status === 204)).toHaveLength(3);
  });

  it('fills a pool through a prebuild-only daemon over HTTP: its prebuilds become eligible', async () => {
    const suite = unique('s');
    const template = await createTaggedTemplate(host, { suite }, 2);
    const pool = daemon(host, (await createKey(host, { suite, is_prebuild: 'true' })).key);
    await reconcile(host, template.id);
    for (const worker of ['p1', 'p2']) {
      const job = (await pool.acquire(worker).expect(200)).body;
      await pool
        .logs(job.jobId, worker, [{ stream: 'stdout', text: `building ${job.workspaceId}` }])
        .expect(200);
      await pool.complete(job.jobId, worker, { status: 'succeeded', agentLifecycle: 'ready' }).expect(200);
    }
    const status = (await host.http.get(`${API}/prebuilds/status`).set(bearer(host.tokens.owner)).expect(200))
      .body;
    expect(status.presets.find((p: { presetId: string }) => p.presetId === template.presetId)).toEqual(
      expect.objectContaining({ desired: 2, actual: 2, eligible: 2, starting: 0 }),
    );
  });

  it.each([
    [{ is_prebuild: 'true' }, /provisionerTags\.is_prebuild/],
    [{ region: 5 }, /provisionerTags\.region/],
    [['eu'], /provisionerTags/],
  ])(
    'refuses a template with provisionerTags %j (400 naming the field), writing nothing',
    async (tags, field) => {
      const before = await dbFingerprint(host.dataSource);
      const res = await host.http
        .post(`${API}/templates`)
        .set(bearer(host.tokens.owner))
        .send({ name: unique('t'), provisionerTags: tags, version: { name: 'v1' } })
        .expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.message).toMatch(field);
      expect(await dbFingerprint(host.dataSource)).toEqual(before);
    },
  );

  describe('bad input: 400 naming the field, nothing written', () => {
    let d: ReturnType<typeof daemon>;
    let jobId: string;

    beforeAll(async () => {
      const suite = unique('s');
      const template = await createTaggedTemplate(host, { suite });
      d = daemon(host, (await createKey(host, { suite })).key);
      await createUserWorkspace(host, template.id);
      jobId = (await d.acquire('a').expect(200)).body.jobId;
    });

    const cases: [string, () => ReturnType<ReturnType<typeof daemon>['acquire']>, RegExp][] = [
      ['acquire without workerId', () => d.acquire(undefined as unknown as string), /workerId/],
      ['acquire with a negative waitMs', () => d.acquire('a', -1), /waitMs/],
      ['acquire with a workerId of spaces', () => d.acquire('a b'), /workerId/],
      [
        'heartbeat with an unknown field',
        () => d.post(`/jobs/${jobId}/heartbeat`, { workerId: 'a', lease: 5 }),
        /lease/,
      ],
      [
        'logs with a bad stream',
        () => d.logs(jobId, 'a', [{ stream: 'stdin', text: 'x' }]),
        /lines\.0\.stream/,
      ],
      ['logs with no lines', () => d.logs(jobId, 'a', []), /lines/],
      ['complete without outcome', () => d.post(`/jobs/${jobId}/complete`, { workerId: 'a' }), /outcome/],
      ['complete with a bad status', () => d.complete(jobId, 'a', { status: 'done' }), /outcome\.status/],
      ['complete failed without error', () => d.complete(jobId, 'a', { status: 'failed' }), /outcome\.error/],
      [
        'complete succeeded with an error',
        () => d.complete(jobId, 'a', { status: 'succeeded', error: 'x' }),
        /outcome\.error/,
      ],
      [
        'complete with an unknown field',
        () => d.complete(jobId, 'a', { status: 'succeeded', exitCode: 0 }),
        /exitCode/,
      ],
      ['heartbeat of a job id that is no UUID', () => d.heartbeat('nope', 'a'), /id/],
    ];

    it.each(cases)('%s', async (_name, call, field) => {
      const before = await dbFingerprint(host.dataSource);
      const res = await call();
      expect(res.status).toBe(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.message).toMatch(field);
      expect(await dbFingerprint(host.dataSource)).toEqual(before);
    });
  });
});
