import pg from 'pg';
import type { DataSource } from 'typeorm';
import { PrebuildsLock } from './advisory-locks.js';
import { PREBUILDS_MIGRATIONS } from './migrations/index.js';
import type { PrebuildsMigration } from './migrations/prebuilds-migration.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

/** Where the module's migrations run: a connection URL, or a host's DataSource (initialized). */
export type MigrationTarget = string | DataSource;

export interface PrebuildsMigrationOptions {
  /** The module's schema (default `prebuilds`); the same value the module is mounted with. */
  schema?: string;
  /** The prebuilds owner id (default DEFAULT_PREBUILDS_OWNER_ID); the same value the module is mounted with. */
  prebuildsOwnerId?: string;
}

type Rows = Record<string, unknown>[];

/** One connection for the whole run: the session advisory lock must stay on the connection that migrates. */
interface MigrationSession {
  query(sql: string, params?: unknown[]): Promise<Rows>;
  release(): Promise<void>;
}

async function openSession(target: MigrationTarget): Promise<MigrationSession> {
  if (typeof target === 'string') {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    return {
      query: async (sql, params) => (await client.query(sql, params)).rows,
      release: () => client.end(),
    };
  }
  const runner = target.createQueryRunner();
  await runner.connect();
  return {
    query: async (sql, params) => {
      const result = await runner.query(sql, params, true);
      return result.records as Rows;
    },
    release: () => runner.release(),
  };
}

/** Applied migration names of the schema, in order; empty when the schema has never been migrated. */
export async function appliedPrebuildsMigrations(
  query: (sql: string, params?: unknown[]) => Promise<Rows>,
  ns: PrebuildsNamespace,
): Promise<string[]> {
  const [table] = await query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${ns.schema}.migrations`]);
  if (!table?.present) return [];
  const rows = await query(`SELECT name FROM ${ns.schema}.migrations ORDER BY name`);
  return rows.map((row) => row.name as string);
}

/** Names this build knows that the schema lacks: non-empty means the module cannot serve yet. */
export function pendingMigrationNames(applied: readonly string[]): string[] {
  const done = new Set(applied);
  return PREBUILDS_MIGRATIONS.map((migration) => migration.name).filter((name) => !done.has(name));
}

async function withMigrationLock<T>(
  target: MigrationTarget,
  options: PrebuildsMigrationOptions,
  work: (session: MigrationSession, ns: PrebuildsNamespace) => Promise<T>,
): Promise<T> {
  const ns = new PrebuildsNamespace(options.schema, options.prebuildsOwnerId);
  const session = await openSession(target);
  try {
    await session.query('SELECT pg_advisory_lock($1, $2)', [ns.lockNamespace, PrebuildsLock.Migrations]);
    try {
      await session.query(`CREATE SCHEMA IF NOT EXISTS ${ns.schema}`);
      await session.query(
        `CREATE TABLE IF NOT EXISTS ${ns.schema}.migrations (
           name text PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      return await work(session, ns);
    } finally {
      await session.query('SELECT pg_advisory_unlock($1, $2)', [ns.lockNamespace, PrebuildsLock.Migrations]);
    }
  } finally {
    await session.release();
  }
}

async function inTransaction(session: MigrationSession, work: () => Promise<void>): Promise<void> {
  await session.query('BEGIN');
  try {
    await work();
    await session.query('COMMIT');
  } catch (error) {
    await session.query('ROLLBACK');
    throw error;
  }
}

/**
 * Refuses a schema built for another prebuilds owner: its partial indexes and every unclaimed prebuild name that
 * owner, so running with another id would silently see no prebuilds. A schema not migrated yet passes. Shared by
 * the runner and the module's start (SchemaOwnerCheck).
 */
export async function assertSchemaOwner(
  query: (sql: string, params?: unknown[]) => Promise<Rows>,
  ns: PrebuildsNamespace,
): Promise<void> {
  // Two statements: a reference to a missing table fails when the statement is parsed, whatever a CASE says.
  const [table] = await query(`SELECT to_regclass($1) IS NOT NULL AS present`, [
    `${ns.schema}.prebuilds_settings`,
  ]);
  if (!table?.present) return;
  const [row] = await query(`SELECT prebuilds_owner_id AS owner FROM ${ns.schema}.prebuilds_settings`);
  const owner = (row?.owner as string | undefined) ?? null;
  if (owner !== null && owner !== ns.ownerId) {
    throw new Error(
      `prebuilds schema "${ns.schemaName}" was created for prebuildsOwnerId "${owner}", not "${ns.ownerId}"`,
    );
  }
}

/**
 * Applies the module's pending migrations, each in its own transaction, recorded in `<schema>.migrations` (never
 * the host's migrations table). A session advisory lock makes replicas that start together migrate exactly once:
 * the others wait, then find nothing pending. Returns the names applied.
 */
export function runPrebuildsMigrations(
  target: MigrationTarget,
  options: PrebuildsMigrationOptions = {},
): Promise<string[]> {
  return withMigrationLock(target, options, async (session, ns) => {
    await assertSchemaOwner(session.query, ns);
    const applied = new Set(await appliedPrebuildsMigrations(session.query, ns));
    const names: string[] = [];
    for (const migration of PREBUILDS_MIGRATIONS) {
      if (applied.has(migration.name)) continue;
      await inTransaction(session, async () => {
        await migration.up((sql) => session.query(sql), ns);
        await session.query(`INSERT INTO ${ns.schema}.migrations (name) VALUES ($1)`, [migration.name]);
      });
      names.push(migration.name);
    }
    return names;
  });
}

/** Reverts the newest applied migration of the schema; returns its name, or null when none is applied. */
export function revertPrebuildsMigration(
  target: MigrationTarget,
  options: PrebuildsMigrationOptions = {},
): Promise<string | null> {
  return withMigrationLock(target, options, async (session, ns) => {
    const applied = await appliedPrebuildsMigrations(session.query, ns);
    const last = applied.at(-1);
    if (last === undefined) return null;
    const migration: PrebuildsMigration | undefined = PREBUILDS_MIGRATIONS.find((m) => m.name === last);
    if (!migration) throw new Error(`prebuilds migration ${last} is applied but unknown to this build`);
    await inTransaction(session, async () => {
      await migration.down((sql) => session.query(sql), ns);
      await session.query(`DELETE FROM ${ns.schema}.migrations WHERE name = $1`, [last]);
    });
    return last;
  });
}
