import pg from 'pg';
import { stopAndRemoveEmbedded } from './embedded-cleanup.js';

export default async function globalTeardown() {
  const serverUrl = process.env.PREBUILDS_TEST_SERVER_URL;
  const template = process.env.PREBUILDS_TEST_TEMPLATE_DB;
  // Set by global-setup.js when it started an embedded PostgreSQL (no TEST_DATABASE_URL).
  const scratch = process.env.PREBUILDS_TEST_SCRATCH;
  if (scratch) {
    // The whole throwaway cluster goes: the server, the folder we made, and the data wherever it really was.
    await stopAndRemoveEmbedded(scratch);
    // Cleaned up: the watchdog that would have done it if jest had been interrupted is not needed any more.
    const watchdog = Number(process.env.PREBUILDS_TEST_WATCHDOG_PID);
    if (watchdog > 0) {
      try {
        process.kill(watchdog, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    return;
  }
  if (!serverUrl || !template) return;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    // Clones a crashed test file left behind, then the template itself.
    const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [
      `${template}%`,
    ]);
    for (const { datname } of rows.reverse())
      await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
