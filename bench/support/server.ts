import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/host/database/embedded-postgres.js';
import { runPrebuildsMigrations } from 'nest-prebuilds';
import { runHostMigrations } from '../../src/host/database/host-data-source.js';
import { withClient } from './pg.js';

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Where the bench runs: a server it may CREATE and DROP databases on. */
export interface BenchServer {
  source: 'BENCH_DATABASE_URL' | 'embedded';
  adminUrl: string;
  /** A new, migrated database; every scenario gets its own so that none sees another's rows or statistics. */
  createDatabase(label: string): Promise<BenchDatabase>;
  stop(): Promise<void>;
}

export function databaseUrl(server: string, database: string): string {
  const parsed = new URL(server);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** BENCH_DATABASE_URL when set (any database on the server; only its server is used), else an embedded server. */
export async function openBenchServer(log: (message: string) => void): Promise<BenchServer> {
  const external = process.env.BENCH_DATABASE_URL;
  if (external) return serverAt(external, 'BENCH_DATABASE_URL', async () => undefined);

  const folder = await mkdtemp(join(tmpdir(), 'prebuilds-bench-'));
  // Readable by the `postgres` OS user the embedded server runs as under root; otherwise its data would be moved
  // to /var/tmp, out of reach of the cleanup below.
  await chmod(folder, 0o755);
  const embedded = await startEmbeddedPostgres({
    dataDir: join(folder, 'postgres'),
    port: await freePort(),
    database: 'postgres',
    log,
  });
  return serverAt(embedded.adminUrl, 'embedded', async () => {
    await embedded.stop();
    await rm(folder, { recursive: true, force: true });
  });
}

function serverAt(adminUrl: string, source: BenchServer['source'], stop: () => Promise<void>): BenchServer {
  return {
    source,
    adminUrl: databaseUrl(adminUrl, 'postgres'),
    stop,
    async createDatabase(label) {
      const name = `prebuilds_bench_${label}_${randomBytes(3).toString('hex')}`;
      const admin = databaseUrl(adminUrl, 'postgres');
      await withClient(admin, (client) => client.query(`CREATE DATABASE ${name}`));
      const url = databaseUrl(adminUrl, name);
      // The host app's database: its users and tokens (the claimers), then the module's schema.
      await runHostMigrations(url);
      await runPrebuildsMigrations(url);
      return {
        name,
        url,
        drop: () =>
          withClient(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(),
      };
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
