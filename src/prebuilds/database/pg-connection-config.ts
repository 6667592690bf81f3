import type pg from 'pg';
import type { DataSource } from 'typeorm';

/** The connection fields of TypeORM's postgres options that a plain pg client understands. */
interface PostgresConnectionFields {
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string | (() => string) | (() => Promise<string>);
  database?: string;
  ssl?: pg.ClientConfig['ssl'];
}

/**
 * A pg client configuration for the database of the module's DataSource, for the few connections the module keeps
 * outside TypeORM's pool (the LISTEN session, the claim pool). `applicationName` shows in pg_stat_activity.
 */
export function pgConnectionConfig(dataSource: DataSource, applicationName: string): pg.ClientConfig {
  const options = dataSource.options as PostgresConnectionFields;
  return {
    connectionString: options.url,
    host: options.host,
    port: options.port,
    user: options.username,
    password: options.password,
    database: options.database,
    ssl: options.ssl,
    application_name: applicationName,
    // A silently dropped TCP connection would otherwise look alive forever to a session that waits.
    keepAlive: true,
    connectionTimeoutMillis: 10_000,
  };
}
