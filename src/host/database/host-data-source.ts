import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { HostIdentity1764900000000 } from './migrations/1764900000000-HostIdentity.js';
import { ApiTokenExpiry1765100000000 } from './migrations/1765100000000-ApiTokenExpiry.js';

/** The host's migrations (TypeORM's own runner and `migrations` table, in `public`). */
export const HOST_MIGRATIONS = [HostIdentity1764900000000, ApiTokenExpiry1765100000000];

export interface HostDataSourceOverrides {
  poolSize?: number;
  logging?: DataSourceOptions['logging'];
  logger?: DataSourceOptions['logger'];
}

/**
 * The host's one DataSource: its own migrations, no entities (all SQL is hand-written), a bounded pool. The prebuilds
 * module queries it too, naming its own schema in every statement, so it adds nothing here.
 */
export function hostDataSourceOptions(
  url: string,
  overrides: HostDataSourceOverrides = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [],
    migrations: HOST_MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: overrides.logging ?? false,
    ...(overrides.logger ? { logger: overrides.logger } : {}),
    extra: { max: overrides.poolSize ?? 20, connectionTimeoutMillis: 10_000 },
  } as DataSourceOptions;
}

// Session advisory lock around the host's migrations, so that replicas starting together migrate once. The
// two-key form with the host's own namespace ('host') keeps it apart from the module's locks.
export const HOST_LOCK_NAMESPACE = 0x686f7374;
const HOST_MIGRATIONS_LOCK = 1;
/** Transaction-scoped, around role changes and user removals: the last owner check sees every other one's result. */
export const HOST_OWNERS_LOCK = 2;

/** Applies the host's pending migrations; returns the names applied. */
export async function runHostMigrations(url: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  const dataSource = new DataSource(hostDataSourceOptions(url, { poolSize: 2 }));
  try {
    await lock.query('SELECT pg_advisory_lock($1, $2)', [HOST_LOCK_NAMESPACE, HOST_MIGRATIONS_LOCK]);
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await lock.end();
  }
}
