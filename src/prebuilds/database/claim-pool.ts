import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import { pgConnectionConfig } from './pg-connection-config.js';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';

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
@Injectable()
export class ClaimPool implements OnApplicationShutdown {
  private readonly logger = new PrebuildsLogger(ClaimPool.name);
  private pool: pg.Pool | null = null;

  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {}

  /** Runs one statement outside any transaction: it commits on its own. */
  async query<T>(statement: NamedStatement): Promise<T[]> {
    this.logged(statement.text, statement.values);
    const result = await this.connections().query<T & pg.QueryResultRow>(statement);
    return result.rows;
  }

  /** Runs `work` in a transaction on one claim connection; rolls back when it throws. */
  async transaction<T>(
    work: (run: <R>(statement: NamedStatement) => Promise<R[]>) => Promise<T>,
  ): Promise<T> {
    const client = await this.connections().connect();
    let broken = false;
    const send = <R>(text: string | NamedStatement) => {
      this.logged(typeof text === 'string' ? text : text.text, typeof text === 'string' ? [] : text.values);
      return client.query<R & pg.QueryResultRow>(text);
    };
    try {
      await send('BEGIN');
      const result = await work(async <R>(statement: NamedStatement) => (await send<R>(statement)).rows);
      await send('COMMIT');
      return result;
    } catch (error) {
      await send('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: drop it rather than hand it to the next claim.
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
      max: this.options.claimPoolSize,
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
