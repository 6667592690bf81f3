import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { SubjectCache } from './subject-cache.js';

/** The host's own NOTIFY channel (the module's channels are prefixed with its schema, so they never meet). */
export const AUTH_INVALIDATED_CHANNEL = 'host_auth_invalidated';

const RECONNECT_MS = 1_000;

/**
 * The bearer-auth cache of this replica, kept honest across replicas: whoever revokes a token, changes roles or
 * removes a user publishes the user id on AUTH_INVALIDATED_CHANNEL inside its transaction (delivered at commit), and
 * every replica's listener (a dedicated connection) drops that user's cached entries. The 5 s TTL stays only as a
 * fallback for a missed notification; when the listening connection drops, the whole cache is cleared on reconnect.
 */
@Injectable()
export class AuthInvalidationService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AuthInvalidationService.name);
  readonly cache = new SubjectCache({ ttlMs: 5_000, maxEntries: 10_000 });
  private client: pg.Client | null = null;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    await this.listen();
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  /** Publishes, inside the caller's transaction, that a user's cached authentication is stale. */
  async publish(manager: EntityManager, userId: string): Promise<void> {
    await manager.query(`SELECT pg_notify($1, $2)`, [AUTH_INVALIDATED_CHANNEL, JSON.stringify({ userId })]);
  }

  /** Drops a user's entries on this replica right away (after the commit that changed them). */
  invalidateUser(userId: string): void {
    this.cache.deleteUser(userId);
  }

  private async listen(): Promise<void> {
    const url = (this.dataSource.options as { url?: string }).url;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    client.on('notification', (message) => this.onNotification(message.payload));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${AUTH_INVALIDATED_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      this.lost(client, error as Error);
      return;
    }
    if (this.closing) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    // Whatever was published while nobody listened is unknown: start from an empty cache.
    this.cache.clear();
  }

  private onNotification(payload: string | undefined): void {
    try {
      const { userId } = JSON.parse(payload ?? '') as { userId?: unknown };
      if (typeof userId === 'string') return this.cache.deleteUser(userId);
    } catch {
      // fall through
    }
    this.cache.clear();
  }

  private lost(client: pg.Client, error?: Error): void {
    if (this.closing || this.reconnectTimer) return;
    if (this.client && this.client !== client) return;
    this.client = null;
    this.cache.clear();
    this.logger.warn({
      msg: 'auth invalidation listener lost; reconnecting',
      event: 'auth_listener_lost',
      error: error?.message,
    });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.listen();
    }, RECONNECT_MS);
    this.reconnectTimer.unref();
  }
}
