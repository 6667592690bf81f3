import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { prebuildsDataSourceOptions } from '../../src/prebuilds/database/data-source-options.js';
import { PREBUILDS_SYSTEM_USER_ID } from '../../src/prebuilds/database/system-ids.js';
import { runPrebuildsMigrations } from '../../src/prebuilds/database/run-migrations.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

async function userTables(dataSource: DataSource): Promise<string[]> {
  const rows: { tablename: string }[] = await dataSource.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY 1`,
  );
  return rows.map((row) => row.tablename);
}

describe('migrations', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    dataSource = new DataSource(prebuildsDataSourceOptions(db.url, { poolSize: 2 }));
  });
  afterAll(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    await db.drop();
  });

  it('build the whole schema from empty, with the prebuilds system user, and apply only once', async () => {
    const [applied, again] = await Promise.all([
      runPrebuildsMigrations(db.url),
      runPrebuildsMigrations(db.url),
    ]);
    // Two replicas starting together: the advisory lock serialises them, so exactly one applies.
    expect([...applied, ...again]).toEqual([
      'InitialSchema1764288000000',
      'RunningJobsIndex1764374400000',
      'FailedJobsIndex1764460800000',
    ]);

    await dataSource.initialize();
    expect(await userTables(dataSource)).toEqual(
      expect.arrayContaining([
        'workspaces',
        'workspace_builds',
        'provisioner_jobs',
        'template_version_presets',
      ]),
    );
    const [systemUser] = await dataSource.query(`SELECT username, is_system FROM users WHERE id = $1`, [
      PREBUILDS_SYSTEM_USER_ID,
    ]);
    expect(systemUser).toEqual({ username: 'prebuilds', is_system: true });
    expect(await dataSource.showMigrations()).toBe(false);
  });

  it('derive a job status from its timestamps', async () => {
    const [job] = await dataSource.query(
      `INSERT INTO provisioner_jobs (started_at) VALUES (now()) RETURNING job_status AS status`,
    );
    expect(job.status).toBe('running');
    const [[done]] = await dataSource.query(
      `UPDATE provisioner_jobs SET completed_at = now(), error = 'boom' RETURNING job_status AS status`,
    );
    expect(done.status).toBe('failed');
  });

  it('revert all the way down to an empty schema', async () => {
    while ((await dataSource.query(`SELECT count(*)::int AS n FROM migrations`))[0].n > 0) {
      await dataSource.undoLastMigration();
    }
    expect(await userTables(dataSource)).toEqual([]);
    expect(await dataSource.showMigrations()).toBe(true);
  });
});
