import pg from 'pg';
import { DataSource } from 'typeorm';
import { PREBUILDS_LOCK_NAMESPACE, PrebuildsLock } from './advisory-locks.js';
import { prebuildsDataSourceOptions } from './data-source-options.js';

/**
 * Applies pending migrations while holding a session advisory lock, so that several replicas starting at once
 * migrate exactly once (the others wait, then find nothing pending). Returns the names applied.
 */
export async function runPrebuildsMigrations(url: string): Promise<string[]> {
  const lockClient = new pg.Client({ connectionString: url });
  await lockClient.connect();
  const dataSource = new DataSource(prebuildsDataSourceOptions(url, { poolSize: 2 }));
  try {
    await lockClient.query('SELECT pg_advisory_lock($1, $2)', [
      PREBUILDS_LOCK_NAMESPACE,
      PrebuildsLock.Migrations,
    ]);
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await lockClient.end();
  }
}
