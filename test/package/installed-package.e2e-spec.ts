import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../support/host-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const PACKAGE_DIR = join(ROOT, 'packages/nest-prebuilds');

/** The child's environment without the npm_* variables of the `npm test` that runs us (they point at this repo). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
  return { ...env, ...extra };
}

interface Fixture {
  url: string;
  stop(): Promise<void>;
}

async function startFixture(dir: string, env: Record<string, string>): Promise<Fixture> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['dist/main.js'], {
    cwd: dir,
    env: cleanEnv({ ...env, PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const deadline = Date.now() + 30_000;
  while (!output.includes('listening')) {
    if (child.exitCode !== null) throw new Error(`fixture exited with ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) throw new Error(`fixture did not start: ${output}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    url: `http://127.0.0.1:${port}/api`,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}

/** The fixture's own routes as a client sees them, byte for byte. */
async function hostAnswers(url: string): Promise<Record<string, Answer>> {
  const requests: Record<string, [string, RequestInit?]> = {
    health: ['/healthz'],
    user: ['/users/1', { headers: { 'x-acme-user': '1' } }],
    missingUser: ['/users/99'],
    workspaces: ['/workspaces'],
    noteStripped: [
      '/notes',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi","extra":1}' },
    ],
    noteInvalid: [
      '/notes',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":5}' },
    ],
    malformedJson: [
      '/notes',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":' },
    ],
    unknownRoute: ['/nowhere'],
  };
  const answers: Record<string, Answer> = {};
  for (const [name, [path, init]] of Object.entries(requests)) {
    const response = await fetch(`${url}${path}`, init);
    answers[name] = {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: await response.text(),
    };
  }
  return answers;
}

const ADMIN = { 'x-acme-user': '1' };
const MEMBER = { 'x-acme-user': '2' };

describe('the packed module installed into a foreign control plane', () => {
  let scratch: string;
  let app: string;
  let db: TestDatabase;
  let before: Record<string, Answer>;
  let mounted: Fixture | null = null;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'nest-prebuilds-fixture-'));
    // npm pack: what the registry would get (dist and README only).
    await run('npm', ['pack', '--pack-destination', scratch, '--silent'], {
      cwd: PACKAGE_DIR,
      env: cleanEnv(),
    });
    const tarball = (await readdir(scratch)).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack wrote no tarball');
    app = join(scratch, 'acme');
    await cp(join(ROOT, 'test/package/fixture-host'), app, { recursive: true });
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(scratch, tarball)],
      { cwd: app, env: cleanEnv() },
    );
    // The fixture's own `tsc` against the installed package's .d.ts (exports map → types).
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: app });
    db = await createTestDatabase({ migrated: false });
    const bare = await startFixture(app, { DATABASE_URL: db.url });
    try {
      before = await hostAnswers(bare.url);
    } finally {
      await bare.stop();
    }
    mounted = await startFixture(app, { DATABASE_URL: db.url, MOUNT_PREBUILDS: '1' });
  }, 240_000);

  afterAll(async () => {
    await mounted?.stop();
    await db?.drop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('ships only the build: no sources, tests, host or bench in the tarball', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], {
      cwd: PACKAGE_DIR,
      env: cleanEnv(),
    });
    const files: string[] = JSON.parse(stdout)[0].files.map((file: { path: string }) => file.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files.filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((file) => /\.spec\.|^dist\/(host|bench|test)\/|fixture/.test(file))).toEqual([]);
  });

  it("keeps the host's tables, migrations and routes exactly as they were", async () => {
    expect(await hostAnswers(mounted!.url)).toEqual(before);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT name FROM public.migrations ORDER BY id`);
      expect(rows).toEqual([{ name: 'AcmeSchema1700000000000' }]);
      const { rows: workspaces } = await client.query(
        `SELECT id::int, owner_id::int AS owner FROM public.workspaces`,
      );
      expect(workspaces).toEqual([{ id: 1, owner: 2 }]);
    } finally {
      await client.end();
    }
  });

  it('fills a pool of 2, hands one to a user whose id is not a UUID, and refills', async () => {
    const url = mounted!.url;
    const status = async () => {
      const response = await fetch(`${url}/prebuilds/status`, { headers: ADMIN });
      expect(response.status).toBe(200);
      return (await response.json()) as {
        presets: { presetId: string; eligible: number; desired: number }[];
      };
    };
    const filled = await waitFor(
      async () => {
        const preset = (await status()).presets[0];
        return preset?.eligible === 2 ? preset : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, message: 'the pool to fill' },
    );
    expect(filled.desired).toBe(2);

    const claim = await fetch(`${url}/dev-envs`, {
      method: 'POST',
      headers: { ...MEMBER, 'content-type': 'application/json' },
      body: JSON.stringify({ presetId: filled.presetId, name: 'my-env' }),
    });
    expect(claim.status).toBe(201);
    const claimed = (await claim.json()) as { id: string; ownerId: string; claimed: boolean };
    expect(claimed).toMatchObject({ ownerId: '2', claimed: true });

    await waitFor(async () => (await status()).presets[0].eligible === 2, {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: 'the refill',
    });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT owner_id AS owner, count(*)::int AS n FROM prebuilds.workspaces WHERE NOT deleted GROUP BY 1 ORDER BY 1`,
      );
      expect(rows).toEqual([
        { owner: '2', n: 1 },
        { owner: 'acme-prebuilds', n: 2 },
      ]);
    } finally {
      await client.end();
    }
  });

  it("authorises by the host's function and rejects unknown fields under the host's whitelist pipe", async () => {
    const url = mounted!.url;
    const denied = await fetch(`${url}/prebuilds/status`, { headers: MEMBER });
    expect(denied.status).toBe(403);
    const bogus = await fetch(`${url}/prebuilds/reconcile`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: '{"bogus":1}',
    });
    expect(bogus.status).toBe(400);
    expect(await bogus.json()).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'property bogus should not exist',
    });
  });
});
