import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { prebuildsDataSourceOptions } from './src/prebuilds/database/data-source-options.js';

/** The DataSource for the TypeORM CLI (`npm run migration:run|revert|generate`); needs DATABASE_URL. */
const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write(
    'error: DATABASE_URL must be set for the TypeORM CLI (e.g. postgres://postgres@127.0.0.1:5432/test)\n',
  );
  process.exit(1);
}

export default new DataSource(prebuildsDataSourceOptions(url));
