import { spawn } from 'node:child_process';
import { chmod, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
// Jest loads global setup outside its module system, where our `.js` → `.ts` mapping does not apply, so it uses
// the compiled build (`pretest` runs `npm run build`).
import { startEmbeddedPostgres } from '../../dist/src/host/database/embedded-postgres.js';
import { runHostMigrations } from '../../dist/src/host/database/host-data-source.js';
import { runPrebuildsMigrations } from 'nest-prebuilds';

/**
 * Once per test run: find a PostgreSQL (TEST_DATABASE_URL, else an embedded one in a temp folder), create a template
 * database and migrate it once. Each test file then clones it (test-database.ts), which takes ~100 ms instead of
 * re-running migrations, and lets the code under test open its own transactions and advisory locks in isolation.
 */
/** @returns {Promise<void>} */
export default async function globalSetup() {
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    // mkdtemp makes a 0700 folder; the server runs as the postgres user when we are root, so open it up.
    const scratch = await mkdtemp(join(tmpdir(), 'nest-prebuilds-test-'));
    await chmod(scratch, 0o755);
    // The teardown and the watchdog need only this folder: it travels in this process's environment.
    process.env.PREBUILDS_TEST_SCRATCH = scratch;
    // Before the server exists, so that an interrupt while it starts is covered too.
    process.env.PREBUILDS_TEST_WATCHDOG_PID = String(startWatchdog(scratch));
    const embedded = await startEmbeddedPostgres({
      dataDir: join(scratch, 'postgres'),
      port: await freePort(),
      database: 'postgres',
    });
    serverUrl = embedded.adminUrl;
  }
  const templateName = `prebuilds_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${templateName}`);
  } finally {
    await admin.end();
  }
  // Both schemas, as the host app migrates at start: its own tables, then the module's schema.
  await runHostMigrations(withDatabase(serverUrl, templateName));
  await runPrebuildsMigrations(withDatabase(serverUrl, templateName));
  process.env.PREBUILDS_TEST_SERVER_URL = serverUrl;
  process.env.PREBUILDS_TEST_TEMPLATE_DB = templateName;
}

/**
 * Jest runs no global teardown on Ctrl-C or a kill: a detached watchdog (its own process group, so the terminal's
 * Ctrl-C does not reach it) stops the server and removes its folders once this process is gone.
 * @returns {number} its pid
 */
function startWatchdog(scratch) {
  const watchdog = spawn(
    process.execPath,
    [fileURLToPath(new URL('./process-watchdog.js', import.meta.url)), String(process.pid), scratch],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  return watchdog.pid;
}

function withDatabase(url, database) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
