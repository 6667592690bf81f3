import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import pg from 'pg';

export default async function globalTeardown() {
  const serverUrl = process.env.PREBUILDS_TEST_SERVER_URL;
  const template = process.env.PREBUILDS_TEST_TEMPLATE_DB;
  const embedded = globalThis.__PREBUILDS_EMBEDDED__;
  if (embedded) {
    await embedded.stop();
    // The whole throwaway cluster goes: the folder we made, and the data wherever it really was.
    await rm(dirname(embedded.dataDir), { recursive: true, force: true });
    await rm(globalThis.__PREBUILDS_SCRATCH__, { recursive: true, force: true });
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
