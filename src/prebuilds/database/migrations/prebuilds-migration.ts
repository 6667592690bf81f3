import type { PrebuildsNamespace } from '../prebuilds-namespace.js';

/** Runs one statement of a migration (on the migration's transaction). */
export type MigrationSql = (sql: string) => Promise<unknown>;

/**
 * One step of the module's schema. Not TypeORM's MigrationInterface: the module's migrations are recorded in its own
 * schema's `migrations` table (never the host's) and take the namespace, because table names and the prebuilds
 * owner in partial-index predicates depend on the host's options.
 */
export interface PrebuildsMigration {
  /** Unique and sortable: `<timestamp>-<Name>`. */
  readonly name: string;
  up(sql: MigrationSql, ns: PrebuildsNamespace): Promise<void>;
  down(sql: MigrationSql, ns: PrebuildsNamespace): Promise<void>;
}
