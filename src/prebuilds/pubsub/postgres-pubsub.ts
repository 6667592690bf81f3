import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { InjectPrebuildsDataSource } from '../database/prebuilds-data-source.js';
import pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { pgConnectionConfig } from '../database/pg-connection-config.js';
import { PrebuildsNamespace } from '../database/prebuilds-namespace.js';
import type { PrebuildsChannel } from './channels.js';
import { PrebuildsPubsub, type PubsubMessage } from './prebuilds-pubsub.js';

type Handler = (payload: unknown) => void;

const RECONNECT_BASE_MS = 100;
const RECONNECT_MAX_MS = 10_000;

/**
 * LISTEN/NOTIFY on PostgreSQL. Publishing borrows a pooled connection for one `pg_notify`; listening needs a session
 * that stays open, so it gets one dedicated pg.Client outside the pool (a pooled connection would be handed to other
 * queries and recycled). The listener reconnects on loss with capped exponential backoff and re-LISTENs every
 * channel; messages sent while it was down are lost, which is fine because every message is a wake-up hint only.
 */
@Injectable()
export class PostgresPubsub extends PrebuildsPubsub implements OnModuleInit, OnModuleDestroy {
  private readonly handlers = new Map<string, Set<Handler>>();
  /** The listener client, from creation until it is lost or closed; its identity tells stale events apart. */
  private client: pg.Client | null = null;
  private connected = false;
  private readonly listening = new Set<string>();
  /**
   * Connects, LISTENs and UNLISTENs run one after another on this chain: pg deprecates overlapping queries on one
   * client, and ordering keeps a quick unsubscribe/subscribe pair from ending in the wrong state.
   */
  private chain: Promise<void> = Promise.resolve();
  private connectQueued = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly logger: PrebuildsLogger;

  /** `logger` (tests pass a recording one) defaults to `new Logger('PostgresPubsub')`, i.e. Nest's active logger. */
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
    @Optional() logger?: Logger,
  ) {
    super();
    this.logger = new PrebuildsLogger(PostgresPubsub.name, logger);
  }

  onModuleInit(): void {
    // Connecting at boot surfaces a broken listener in the startup logs rather than at the first subscribe.
    this.ensureConnected();
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  async publish(channel: PrebuildsChannel, payload: object): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [
      this.ns.channel(channel),
      JSON.stringify(payload),
    ]);
  }

  /** One statement for any number of messages; inside `manager`'s transaction they leave at its commit. */
  override async publishMany(messages: PubsubMessage[], manager?: EntityManager): Promise<void> {
    if (messages.length === 0) return;
    await (manager ?? this.dataSource).query(
      'SELECT pg_notify(m.channel, m.payload) FROM unnest($1::text[], $2::text[]) AS m(channel, payload)',
      [messages.map((m) => this.ns.channel(m.channel)), messages.map((m) => JSON.stringify(m.payload))],
    );
  }

  subscribe(logical: PrebuildsChannel, handler: Handler): () => void {
    // Handlers are kept by the PostgreSQL channel name, which is what notifications arrive with.
    const channel = this.ns.channel(logical);
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    // A handler subscribed twice still gets its own unsubscribe; wrapping keeps the two registrations apart.
    const entry: Handler = (payload) => handler(payload);
    set.add(entry);
    if (set.size === 1) {
      this.ensureConnected();
      this.enqueue(() => this.syncChannel(channel));
    }
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const current = this.handlers.get(channel);
      if (!current?.delete(entry) || current.size > 0) return;
      this.handlers.delete(channel);
      this.enqueue(() => this.syncChannel(channel));
    };
  }

  /** Resolves once the listener has caught up with every subscribe and unsubscribe so far (or has given up). */
  override async whenListening(): Promise<void> {
    await this.chain;
  }

  /** Backend process id of the listener session, or null while it is down. */
  listenerProcessId(): number | null {
    const client = this.client as (pg.Client & { processID?: number }) | null;
    return this.connected && client?.processID ? client.processID : null;
  }

  /** Stops listening and reconnecting. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    this.connected = false;
    this.listening.clear();
    if (client) await client.end().catch(() => undefined);
    await this.chain;
  }

  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((error: unknown) => {
      this.logger.error({
        msg: 'pubsub listener operation failed',
        event: 'pubsub_error',
        error: describe(error),
      });
    });
  }

  private ensureConnected(): void {
    if (this.closed || this.client || this.connectQueued || this.reconnectTimer) return;
    this.connectQueued = true;
    this.enqueue(() => this.connect());
  }

  private async connect(): Promise<void> {
    this.connectQueued = false;
    if (this.closed || this.client) return;
    const client = new pg.Client(this.clientConfig());
    this.client = client;
    client.on('notification', (message) => this.dispatch(message.channel, message.payload));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) {
        await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
        this.listening.add(channel);
      }
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.client !== client) return;
    this.connected = true;
    if (this.attempt > 0) {
      this.logger.log({
        msg: 'pubsub listener reconnected',
        event: 'pubsub_reconnected',
        attempt: this.attempt,
        channels: [...this.listening],
      });
    }
    this.attempt = 0;
  }

  /** Brings one channel's LISTEN state in line with whether it has handlers. */
  private async syncChannel(channel: string): Promise<void> {
    const client = this.client;
    // While down there is nothing to do: the next connect LISTENs whatever has handlers then.
    if (!client || !this.connected) return;
    const wanted = this.handlers.has(channel);
    if (wanted && !this.listening.has(channel)) {
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
      this.listening.add(channel);
    } else if (!wanted && this.listening.has(channel)) {
      await client.query(`UNLISTEN ${client.escapeIdentifier(channel)}`);
      this.listening.delete(channel);
    }
  }

  /** pg reports one loss as 'error' and then 'end' (or as a failed connect and 'end'); the first one counts. */
  private lost(client: pg.Client, error?: unknown): void {
    if (this.client !== client) return;
    this.client = null;
    this.connected = false;
    this.listening.clear();
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.attempt += 1;
    const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** (this.attempt - 1));
    // Half fixed, half random: replicas that lost the same server do not all come back in the same millisecond.
    const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.logger.warn({
      msg: 'pubsub listener lost, reconnecting',
      event: 'pubsub_reconnect',
      attempt: this.attempt,
      delayMs,
      ...(error === undefined ? {} : { error: describe(error) }),
    });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.ensureConnected();
    }, delayMs);
    // The timer alone must not keep a process alive that is otherwise done.
    this.reconnectTimer.unref();
  }

  private dispatch(channel: string, raw: string | undefined): void {
    const set = this.handlers.get(channel);
    if (!set) return;
    let payload: unknown;
    try {
      payload = raw === undefined || raw === '' ? {} : JSON.parse(raw);
    } catch {
      this.logger.warn({ msg: 'pubsub message is not JSON, dropped', event: 'pubsub_bad_payload', channel });
      return;
    }
    for (const handler of [...set]) {
      try {
        const result: unknown = handler(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.handlerFailed(channel, error));
      } catch (error) {
        this.handlerFailed(channel, error);
      }
    }
  }

  private handlerFailed(channel: string, error: unknown): void {
    this.logger.error({
      msg: 'pubsub handler failed',
      event: 'pubsub_handler_error',
      channel,
      error: describe(error),
    });
  }

  private clientConfig(): pg.ClientConfig {
    return pgConnectionConfig(this.dataSource, 'prebuilds-pubsub');
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
