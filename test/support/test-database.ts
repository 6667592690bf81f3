import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export function databaseUrl(server: string, database: string): string {
  const parsed = new URL(server);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function onServer<T>(server: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A database of its own for one test file: by default a clone of the run's migrated template database
 * (global-setup.ts); with `migrated: false`, an empty one (for migration tests).
 */
export async function createTestDatabase({ migrated = true } = {}): Promise<TestDatabase> {
  const server = process.env.PREBUILDS_TEST_SERVER_URL;
  const template = process.env.PREBUILDS_TEST_TEMPLATE_DB;
  if (!server || !template) throw new Error('the db test project global setup did not run');
  // Named after the template so that global teardown finds anything a crashed file left behind.
  const name = `${template}_${randomBytes(4).toString('hex')}`;
  await onServer(server, (client) =>
    client.query(migrated ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`),
  );
  return {
    name,
    url: databaseUrl(server, name),
    drop: () =>
      onServer(server, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(),
  };
}
