import type { OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { pgConnectionConfig } from './pg-connection-config.js';

/** One statement to run on a claim connection: named, so that each connection parses and plans it once. */
export interface NamedStatement {
  name: string;
  text: string;
  values: unknown[];
}

/**
 * A few connections of the claims' own (option `claimPoolSize`). Claims are short and all alike: with as many
 * backends as concurrent callers, 64 claimers on 2 cores spend their time in PostgreSQL's lock manager and on the
 * CPU switching between backends; on a handful, the callers queue in Node and each claim runs without that
 * contention. Sessions plan with generic plans (the statement is the same for every preset) and without JIT.
 */
export class ClaimPool implements OnApplicationShutdown {
  private readonly logger = new PrebuildsLogger(ClaimPool.name);
  private pool: pg.Pool | null = null;
  /** The statements each connection has PREPAREd (a connection replaced by the pool starts empty). */
  private readonly preparedOn = new WeakMap<pg.PoolClient, Set<string>>();

  /** `size`: the option claimPoolSize (the module's provider passes it). */
  constructor(
    private readonly dataSource: DataSource,
    /** How many connections, so how many claim statements at once (ClaimBatcher queues beyond them). */
    readonly size: number,
  ) {}

  /** Runs one statement outside any transaction: it commits on its own. */
  async query<T>(statement: NamedStatement): Promise<T[]> {
    this.logged(statement.text, statement.values);
    const result = await this.connections().query<T & pg.QueryResultRow>(statement);
    return result.rows;
  }

  /**
   * Runs the statements as one transaction in one round trip, and answers the last one's rows. A simple query of
   * several statements is one implicit transaction in PostgreSQL, and each statement in it still takes its own
   * snapshot (READ COMMITTED): a lock taken by the first is held when the next one reads. The statements are
   * prepared on the connection (SQL PREPARE, once per connection) and executed with their values as literals, since
   * the simple protocol takes no parameters.
   */
  async queryInOneTransaction<T>(statements: NamedStatement[]): Promise<T[]> {
    const client = await this.connections().connect();
    let broken = false;
    try {
      const prepared = this.preparedOn.get(client) ?? new Set<string>();
      this.preparedOn.set(client, prepared);
      for (const statement of statements) {
        if (prepared.has(statement.name)) continue;
        await client.query(`PREPARE ${sqlName(statement)} AS ${statement.text}`);
        prepared.add(statement.name);
      }
      const script = statements
        .map((statement) => {
          this.logged(statement.text, statement.values);
          return `EXECUTE ${sqlName(statement)}(${statement.values.map(literal).join(', ')})`;
        })
        .join('; ');
      const results = (await client.query(script)) as unknown as pg.QueryResult | pg.QueryResult[];
      const last = Array.isArray(results) ? results[results.length - 1] : results;
      return last.rows as T[];
    } catch (error) {
      // A failed script has rolled itself back; a connection that broke underneath is not handed out again.
      broken = !(error as { code?: string }).code;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.end();
  }

  /** Into the DataSource's query log, like every other statement of the module (when the host turned it on). */
  private logged(text: string, values: unknown[]): void {
    this.dataSource.logger.logQuery(text, values);
  }

  private connections(): pg.Pool {
    if (this.pool) return this.pool;
    const pool = new pg.Pool({
      ...pgConnectionConfig(this.dataSource, 'prebuilds-claims'),
      max: this.size,
      idleTimeoutMillis: 30_000,
      options: '-c plan_cache_mode=force_generic_plan -c jit=off',
    });
    // An idle connection that the server drops (a restart, a terminated backend) must not crash the process; the
    // pool replaces it at the next claim.
    pool.on('error', (error) =>
      this.logger.warn({
        msg: 'claim connection lost',
        event: 'claim_connection_lost',
        error: error.message,
      }),
    );
    this.pool = pool;
    return pool;
  }
}

/** The SQL-level name of a statement, apart from the protocol-level one pg prepares under `name` (one namespace). */
function sqlName(statement: NamedStatement): string {
  return `${statement.name}_sql`;
}

/** A value as a SQL literal for EXECUTE, which casts it to the prepared statement's parameter type. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot send ${value} as a SQL literal`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return pg.escapeLiteral(value.toISOString());
  // A quoted array literal has no type of its own, so EXECUTE casts it to the parameter's (uuid[], timestamptz[]…);
  // an ARRAY[…] of quoted strings would be a text[], which does not cast to those.
  if (Array.isArray(value)) return pg.escapeLiteral(`{${value.map(arrayElement).join(',')}}`);
  if (typeof value === 'string') return pg.escapeLiteral(value);
  throw new Error(`cannot send a ${typeof value} as a SQL literal`);
}

/** One element of a one-dimensional array literal: NULL, or the value's text double-quoted. */
function arrayElement(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (Array.isArray(value)) throw new Error('cannot send a nested array as a SQL literal');
  const text = value instanceof Date ? value.toISOString() : String(value);
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
