import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { hostDataSourceOptions } from './src/host/database/host-data-source.js';

/**
 * The host app's DataSource for the TypeORM CLI (`npm run migration:run|revert`): the host's own tables only. The
 * prebuilds module's schema is migrated by runPrebuildsMigrations at start. Needs DATABASE_URL.
 */
const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write(
    'error: DATABASE_URL must be set for the TypeORM CLI (e.g. postgres://postgres@127.0.0.1:5432/test)\n',
  );
  process.exit(1);
}

export default new DataSource(hostDataSourceOptions(url));
