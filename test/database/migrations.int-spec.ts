import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { HostIdentity1764900000000 } from '../../src/host/database/migrations/1764900000000-HostIdentity.js';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';
import {
  revertPrebuildsMigration,
  runPrebuildsMigrations,
} from '../../src/prebuilds/database/run-migrations.js';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

async function tablesOf(ds: DataSource, schema: string): Promise<string[]> {
  const rows: { tablename: string }[] = await ds.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1`,
    [schema],
  );
  return rows.map((row) => row.tablename);
}

/** What a host's own objects look like: its tables' columns and rows, and its migrations. */
async function hostFingerprint(ds: DataSource): Promise<unknown> {
  return ds.query(
    `SELECT (SELECT json_agg(c ORDER BY c.table_name, c.ordinal_position)
               FROM (SELECT table_name, column_name, data_type, ordinal_position
                       FROM information_schema.columns WHERE table_schema = 'public') c) AS columns,
            (SELECT json_agg(m ORDER BY m.id) FROM public.migrations m) AS migrations,
            (SELECT count(*)::int FROM public.users) AS users,
            (SELECT count(*)::int FROM public.workspaces) AS workspaces,
            (SELECT count(*)::int FROM pg_indexes WHERE schemaname = 'public') AS indexes,
            current_setting('search_path') AS search_path`,
  );
}

describe('migrations into the module schema, beside a host that has its own users, workspaces and migrations', () => {
  let db: TestDatabase;
  let host: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    // A foreign control plane: bigint users, its own organizations, templates and workspaces, TypeORM's
    // `migrations` table in public with a migration of its own.
    host = await new DataSource({
      ...testDataSourceOptions(db.url, { poolSize: 4 }),
      migrations: [HostIdentity1764900000000],
    } as DataSourceOptions).initialize();
    await host.runMigrations();
    await host.query(`DROP TABLE api_tokens; DROP TABLE users`);
    await host.query(`CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL)`);
    await host.query(`CREATE TABLE organizations (id bigserial PRIMARY KEY, name text NOT NULL)`);
    await host.query(`CREATE TABLE templates (id bigserial PRIMARY KEY, name text NOT NULL)`);
    await host.query(`CREATE TABLE workspaces (id bigserial PRIMARY KEY, owner bigint REFERENCES users(id))`);
    await host.query(`INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')`);
    await host.query(`INSERT INTO workspaces (owner) VALUES (1)`);
  });
  afterAll(async () => {
    if (host?.isInitialized) await host.destroy();
    await db?.drop();
  });

  it('migrates once when replicas start together, touching none of the host objects', async () => {
    const before = await hostFingerprint(host);
    const [applied, again] = await Promise.all([
      runPrebuildsMigrations(db.url),
      runPrebuildsMigrations(host),
    ]);
    // The session advisory lock serialises them, so exactly one applies.
    expect([...applied, ...again]).toEqual([
      '1764288000000-InitialSchema',
      '1764950000000-JobLeases',
      '1765100000000-AgentsReady',
      '1765300000000-ProvisionerKeys',
      '1765400000000-PresetHistory',
      '1765500000000-DemandExpression',
      '1765600000000-LatestBuildState',
      '1765700000000-CatalogVersion',
    ]);
    expect(await hostFingerprint(host)).toEqual(before);
    expect(await tablesOf(host, 'prebuilds')).toEqual(
      expect.arrayContaining([
        'migrations',
        'templates',
        'workspaces',
        'provisioner_jobs',
        'prebuilds_settings',
        'provisioner_keys',
        'provisioner_job_logs',
        'preset_history',
      ]),
    );
    // No user, role or token table of the module's own.
    expect(await tablesOf(host, 'prebuilds')).not.toEqual(expect.arrayContaining(['users']));
    expect(await tablesOf(host, 'prebuilds')).not.toContain('api_tokens');
    expect(await tablesOf(host, 'prebuilds')).not.toContain('organizations');
    // The host's own TypeORM migrations are exactly as before: nothing pending, nothing added.
    expect(await host.showMigrations()).toBe(false);
  });

  it('derives a job status from its timestamps', async () => {
    const [job] = await host.query(
      `INSERT INTO prebuilds.provisioner_jobs (started_at) VALUES (now()) RETURNING id, job_status AS status`,
    );
    expect(job.status).toBe('running');
    const [[done]] = await host.query(
      `UPDATE prebuilds.provisioner_jobs SET completed_at = now(), error = 'boom' WHERE id = $1
       RETURNING job_status AS status`,
      [job.id],
    );
    expect(done.status).toBe('failed');
  });

  it('keeps two schemas of one database apart: tables, locks and channels', async () => {
    expect(await runPrebuildsMigrations(db.url, { schema: 'prebuilds_b' })).toEqual([
      '1764288000000-InitialSchema',
      '1764950000000-JobLeases',
      '1765100000000-AgentsReady',
      '1765300000000-ProvisionerKeys',
      '1765400000000-PresetHistory',
      '1765500000000-DemandExpression',
      '1765600000000-LatestBuildState',
      '1765700000000-CatalogVersion',
    ]);
    await host.query(
      `INSERT INTO prebuilds_b.templates (id, organization_id, name) VALUES ('t-b', 'org', 'only in b')`,
    );
    expect(await host.query(`SELECT id FROM prebuilds.templates WHERE id = 't-b'`)).toEqual([]);
    const a = new PrebuildsNamespace('prebuilds');
    const b = new PrebuildsNamespace('prebuilds_b');
    expect(a.lockNamespace).not.toBe(b.lockNamespace);
    expect(a.channel('job_posted')).not.toBe(b.channel('job_posted'));
  });

  it('refuses a schema migrated for another prebuilds owner id', async () => {
    await expect(runPrebuildsMigrations(db.url, { prebuildsOwnerId: 'someone-else' })).rejects.toThrow(
      'prebuilds schema "prebuilds" was created for prebuildsOwnerId',
    );
  });

  it("reverts down to an empty module schema, and the host's own migration:revert still works", async () => {
    expect(await revertPrebuildsMigration(db.url)).toBe('1765700000000-CatalogVersion');
    expect(await revertPrebuildsMigration(db.url)).toBe('1765600000000-LatestBuildState');
    expect(await revertPrebuildsMigration(db.url)).toBe('1765500000000-DemandExpression');
    expect(await revertPrebuildsMigration(db.url)).toBe('1765400000000-PresetHistory');
    expect(await revertPrebuildsMigration(db.url)).toBe('1765300000000-ProvisionerKeys');
    expect(await revertPrebuildsMigration(db.url)).toBe('1765100000000-AgentsReady');
    expect(await revertPrebuildsMigration(db.url)).toBe('1764950000000-JobLeases');
    expect(await revertPrebuildsMigration(db.url)).toBe('1764288000000-InitialSchema');
    expect(await revertPrebuildsMigration(db.url)).toBeNull();
    expect(await tablesOf(host, 'prebuilds')).toEqual(['migrations']);
    // TypeORM's revert of the host's last migration (what `typeorm migration:revert` runs) finds its own row.
    await host.query(`DROP TABLE workspaces; DROP TABLE users`);
    await host.query(
      `CREATE TABLE users (id uuid PRIMARY KEY); CREATE TABLE api_tokens (id uuid PRIMARY KEY)`,
    );
    await host.undoLastMigration();
    expect(await host.showMigrations()).toBe(true);
    expect(await tablesOf(host, 'public')).toEqual(['migrations', 'organizations', 'templates']);
  });
});
