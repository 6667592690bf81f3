import type { DataSourceOptions } from 'typeorm';
import { PREBUILDS_ENTITIES } from './entities/index.js';
import { PREBUILDS_MIGRATIONS } from './migrations/index.js';

export interface PrebuildsDataSourceOverrides {
  poolSize?: number;
  logging?: DataSourceOptions['logging'];
  logger?: DataSourceOptions['logger'];
}

/** The TypeORM options for this module's schema; shared by the host app, the CLI (ormconfig.ts) and tests. */
export function prebuildsDataSourceOptions(
  url: string,
  overrides: PrebuildsDataSourceOverrides = {},
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: PREBUILDS_ENTITIES,
    migrations: PREBUILDS_MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: overrides.logging ?? false,
    ...(overrides.logger ? { logger: overrides.logger } : {}),
    // Statement time limits keep a stuck query from holding the reconcile lock forever.
    extra: { max: overrides.poolSize ?? 20, connectionTimeoutMillis: 10_000 },
  } as DataSourceOptions;
}
