import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { freePort, type HostProcess, startHostProcess } from '../support/host-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { cli, type Daemon, startDaemon, until } from './cli-kit.js';

/**
 * Issue 16, items 5-7: the package's `nest-prebuilds` tool against the built host app run as a process with its
 * simulated provisioner off (PROVISIONER_ENABLED=false), so that only the tool's daemons build. Each test's template
 * carries a tag of its own (`suite`) and its keys that tag, so that no daemon takes another test's jobs.
 */
const TOKEN = 'cli-test-admin-token-0123456789';

describe('the nest-prebuilds command-line tool', () => {
  let db: TestDatabase;
  let host: HostProcess;
  let url: string;
  const daemons: Daemon[] = [];
  const asOwner = { PREBUILDS_TOKEN: TOKEN };

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await startHostProcess({
      DATABASE_URL: db.url,
      HOST: '127.0.0.1',
      BOOTSTRAP_ADMIN_TOKEN: TOKEN,
      SEED_DEMO: 'false',
      PROVISIONER_ENABLED: 'false',
      PREBUILDS_ENABLED: 'true',
      PREBUILDS_INTERVAL_MS: '1000',
      // A short lease, so that a killed daemon's job comes back within the test.
      PROVISIONER_LEASE_MS: '2000',
      PROVISIONER_HEARTBEAT_MS: '500',
    });
    url = `http://127.0.0.1:${host.port}/api/v2`;
  });
  afterAll(async () => {
    await Promise.all(daemons.map((daemon) => daemon.stop('SIGKILL')));
    await host?.stop();
    await db?.drop();
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as never };
  };

  const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

  /** A template tagged `suite`, with one preset wanting `instances` prebuilds. */
  const template = async (suite: string, instances: number) => {
    const res = await api('POST', '/templates', {
      name: unique('tpl'),
      provisionerTags: { suite },
      version: {
        name: 'v1',
        parameters: [{ name: 'region', default: 'eu' }],
        presets: [{ name: 'p', prebuilds: { instances } }],
      },
    });
    expect(res.status).toBe(201);
    const body = res.body as { id: string; activeVersion: { presets: { id: string }[] } };
    return { id: body.id, presetId: body.activeVersion.presets[0].id };
  };

  /** A provisioner key made with the tool: `keys create --json`. */
  const key = async (tags: Record<string, string>) => {
    const tagArgs = Object.entries(tags).flatMap(([k, v]) => ['--tag', `${k}=${v}`]);
    const created = await cli(['--url', url, '--json', 'keys', 'create', unique('key'), ...tagArgs], asOwner);
    expect(created.code).toBe(0);
    return JSON.parse(created.stdout) as { id: string; key: string; tags: Record<string, string> };
  };

  const daemon = (secret: string, args: string[] = [], env: Record<string, string> = {}) => {
    const started = startDaemon(url, secret, args, env);
    daemons.push(started);
    return started;
  };

  const presetStatus = async (presetId: string) => {
    const status = await api('GET', '/prebuilds/status');
    return (
      status.body as { presets: { presetId: string; eligible: number; starting: number }[] }
    ).presets.find((p) => p.presetId === presetId);
  };

  const jobStarts = (d: Daemon) => d.stderr().match(/job_started .*/g) ?? [];

  it('fills a pool of 3 with two external daemons, streaming the command output as build logs', async () => {
    const suite = unique('fill');
    const t = await template(suite, 3);
    const { key: secret } = await key({ suite });
    const first = daemon(secret, ['--concurrency', '2', '--worker-id', 'first']);
    const second = daemon(secret, [
      '--concurrency',
      '2',
      '--worker-id',
      'second',
      '--tags',
      `suite=${suite}`,
    ]);

    await until('3 eligible prebuilds', async () => (await presetStatus(t.presetId))?.eligible === 3);
    expect(jobStarts(first).length + jobStarts(second).length).toBe(3);

    const prebuilds = await api('GET', `/prebuilds/presets/${t.presetId}/workspaces`);
    const [one] = prebuilds.body as { id: string }[];
    const logs = await api('GET', `/workspaces/${one.id}/builds/1/logs`);
    expect(logs.status).toBe(200);
    const texts = JSON.stringify(logs.body);
    expect(texts).toContain(`building workspace=${one.id} transition=start region=eu`);
    expect(texts).toContain('build number 1');

    expect(await first.stop()).toBe(0);
    expect(await second.stop()).toBe(0);
    expect(first.stderr()).toMatch(/provisioner_stopped/);
  });

  it("finishes a SIGKILLed daemon's job on the other daemon once the lease expires", async () => {
    const suite = unique('kill');
    const t = await template(suite, 1);
    const { key: secret } = await key({ suite });
    // The victim's command sleeps long enough to be killed mid-build (its orphan ends on its own).
    const victim = daemon(secret, ['--worker-id', 'victim'], { FIXTURE_SLEEP: '8' });
    await until('the victim to start the job', () => jobStarts(victim).length === 1);
    victim.child.kill('SIGKILL');
    await victim.exited;

    const survivor = daemon(secret, ['--worker-id', 'survivor']);
    await until('the pool to fill', async () => (await presetStatus(t.presetId))?.eligible === 1);
    expect(jobStarts(survivor)).toEqual([expect.stringMatching(/attempt=2/)]);
    expect(await survivor.stop()).toBe(0);
  });

  it('routes prebuild jobs to a prebuild-only daemon and never hands it a user job', async () => {
    const suite = unique('tags');
    const t = await template(suite, 2);
    const user = await api('POST', '/workspaces', { templateId: t.id, name: unique('ws') });
    expect(user.status).toBe(201);
    const userWorkspace = (user.body as { id: string }).id;
    const { key: secret } = await key({ suite, is_prebuild: 'true' });
    const prebuilder = daemon(secret, ['--concurrency', '2']);

    await until('2 eligible prebuilds', async () => (await presetStatus(t.presetId))?.eligible === 2);
    const workspace = await api('GET', `/workspaces/${userWorkspace}`);
    expect((workspace.body as { latestBuild: { jobStatus: string } }).latestBuild.jobStatus).toBe('pending');
    expect(jobStarts(prebuilder)).toHaveLength(2);
    expect(prebuilder.stderr()).not.toContain(userWorkspace);

    // A user-only daemon of the same tags takes the user job.
    const users = daemon((await key({ suite, is_prebuild: 'false' })).key);
    await until('the user build', async () => {
      const view = await api('GET', `/workspaces/${userWorkspace}`);
      return (view.body as { latestBuild: { jobStatus: string } }).latestBuild.jobStatus === 'succeeded';
    });
    expect(jobStarts(users)).toEqual([expect.stringContaining(`workspaceId=${userWorkspace}`)]);
    expect(await prebuilder.stop()).toBe(0);
    expect(await users.stop()).toBe(0);
  });

  it('on SIGTERM releases a job its command does not finish within the grace, and exits 0', async () => {
    const suite = unique('term');
    const t = await template(suite, 1);
    const { key: secret } = await key({ suite });
    const d = daemon(secret, ['--shutdown-grace', '0.5'], { FIXTURE_SLEEP: '30' });
    await until('the job to start', () => jobStarts(d).length === 1);
    expect(await d.stop('SIGTERM')).toBe(0);
    expect(d.stderr()).toMatch(/job_finished .*outcome=released/);

    // Back in the queue at once: another daemon that finishes within its grace completes it.
    const next = daemon(secret, [], { FIXTURE_SLEEP: '1' });
    await until('the job to start again', () => jobStarts(next).length === 1);
    expect(await next.stop('SIGTERM')).toBe(0);
    expect(next.stderr()).toMatch(/job_finished .*outcome=succeeded/);
    await until('the pool to fill', async () => (await presetStatus(t.presetId))?.eligible === 1);
  });

  it('answers operator commands with tables, --json and the documented exit codes', async () => {
    const t = await template(unique('ops'), 0);
    const status = await cli(['--url', url, 'status'], asOwner);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^reconciliation: running/);
    expect(status.stdout).toContain('PRESET ID');
    expect(status.stdout).toContain(t.presetId);
    const json = await cli(['status', '--json'], { ...asOwner, PREBUILDS_URL: url });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(
      expect.objectContaining({ paused: false, presets: expect.any(Array) }),
    );

    const plan = await cli(['--url', url, 'plan'], asOwner);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('ACTIONS');

    expect((await cli(['--url', url, 'pause'], asOwner)).stdout.trim()).toBe('reconciliation paused');
    const paused = await cli(['--url', url, '--json', 'status'], asOwner);
    expect(JSON.parse(paused.stdout).paused).toBe(true);
    expect((await cli(['--url', url, 'resume'], asOwner)).code).toBe(0);
    expect((await api('GET', '/prebuilds/settings')).body).toEqual({ reconciliationPaused: false });

    const reconciled = await cli(['--url', url, 'reconcile', '--template', t.id], asOwner);
    expect(reconciled.code).toBe(0);
    expect(reconciled.stdout).toMatch(/^cycle ran in \d+ ms/);
    expect((await cli(['--url', url, 'invalidate', t.id], asOwner)).stdout).toContain(
      `template ${t.id}: 1 preset(s) invalidated`,
    );
    expect((await cli(['--url', url, 'resume-preset', t.presetId], asOwner)).stdout.trim()).toBe(
      `preset ${t.presetId}: healthy`,
    );

    // 1: an API error, one line with its code.
    const missing = await cli(['--url', url, 'invalidate', 'no-such-template'], asOwner);
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(/^error: TEMPLATE_NOT_FOUND: .+\n$/),
    });
    // 2: usage.
    expect((await cli(['--url', url, 'frobnicate'], asOwner)).code).toBe(2);
    expect((await cli(['--url', url, 'invalidate'], asOwner)).code).toBe(2);
    expect(await cli(['--url', url, 'status'])).toEqual(expect.objectContaining({ code: 2 }));
    // 3: unreachable.
    const nobody = `http://127.0.0.1:${await freePort()}/api/v2`;
    const closed = await cli(['--url', nobody, 'status'], asOwner);
    expect(closed.code).toBe(3);
    expect(closed.stderr).toMatch(
      new RegExp(`^error: cannot reach ${nobody.replaceAll('.', '\\.')}: .*ECONNREFUSED.*\n$`),
    );
    // 4: the token refused.
    const refused = await cli(['--url', url, '--token', 'not-a-valid-token-at-all', 'status']);
    expect(refused.code).toBe(4);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    // 5: another cycle holds the reconcile lock.
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock($1, 1)', [new PrebuildsNamespace().lockNamespace]);
      const busy = await cli(['--url', url, 'reconcile'], asOwner);
      expect(busy.code).toBe(5);
      expect(busy.stderr).toMatch(/^error: RECONCILE_IN_PROGRESS: /);
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
  });

  it("prints a preset's history as a table or JSON, in the window asked for", async () => {
    const t = await template(unique('history'), 1);
    // The host's loop runs a full cycle every second, each one a sample.
    const sampled = await until('a history sample', async () => {
      const res = await api('GET', `/prebuilds/presets/${t.presetId}/history`);
      const body = res.body as { samples: { desired: number }[] };
      return body.samples.length > 0 ? body : undefined;
    });
    expect(sampled.samples[0]).toEqual(expect.objectContaining({ desired: 1 }));

    const table = await cli(['--url', url, 'history', t.presetId], asOwner);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^preset ${t.presetId} · last 1h in 60 s buckets`));
    expect(table.stdout).toMatch(/AT +│ DESIRED +│ RUNNING +│ ELIGIBLE +│ STARTING +│ CLAIMS +│ MISSES/);
    const json = await cli(['--url', url, '--json', 'history', t.presetId, '--window', '24h'], asOwner);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(
      expect.objectContaining({
        presetId: t.presetId,
        window: '24h',
        resolutionSeconds: 900,
        samples: [expect.objectContaining({ at: expect.any(String), desired: 1 })],
      }),
    );

    // A window the route does not have is a usage error; an unknown preset the API's 404.
    const wrong = await cli(['--url', url, 'history', t.presetId, '--window', '2h'], asOwner);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('2h');
    const missing = await cli(['--url', url, 'history', '5a0c6bd4-0d3e-4a43-9f0a-7d2f1f9a6e11'], asOwner);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: PRESET_NOT_FOUND: /);
  });

  it('manages keys, and a daemon with a wrong or revoked key says so in one line and exits 4', async () => {
    const created = await cli(['--url', url, 'keys', 'create', unique('k'), '--tag', 'region=eu'], asOwner);
    expect(created.code).toBe(0);
    const secret = created.stdout.match(/key: (pbk_\S+)/)?.[1];
    expect(secret).toBeDefined();
    const listed = await cli(['--url', url, '--json', 'keys', 'list'], asOwner);
    const mine = (JSON.parse(listed.stdout) as { id: string; key?: string; tags: object }[]).find((k) =>
      secret!.startsWith(`pbk_${k.id.replaceAll('-', '').slice(0, 8)}`),
    );
    expect(mine).toEqual(expect.objectContaining({ tags: { region: 'eu' }, revokedAt: null }));
    expect((await cli(['--url', url, 'keys', 'list'], asOwner)).stdout).toContain('region=eu');

    const wrong = daemon(`pbk_00000000_${'A'.repeat(43)}`);
    expect(await wrong.exited).toBe(4);
    expect(wrong.stderr().match(/^error: .*$/gm)).toEqual([
      expect.stringMatching(/^error: provisioner key refused by .*PROVISIONER_KEY_INVALID/),
    ]);

    const revoked = await cli(['--url', url, 'keys', 'revoke', mine!.id], asOwner);
    expect(revoked.stdout).toMatch(/revoked at /);
    const late = daemon(secret!);
    expect(await late.exited).toBe(4);
    expect(late.stderr().match(/^error: .*$/gm)).toHaveLength(1);
  });
});
