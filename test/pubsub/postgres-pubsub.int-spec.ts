import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { PrebuildsChannel } from '../../src/prebuilds/pubsub/channels.js';
import { PostgresPubsub } from '../../src/prebuilds/pubsub/postgres-pubsub.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { holdsThrough, waitFor } from '../support/wait-for.js';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';

/** Keeps structured log entries so tests can assert on events, and prints nothing. */
class RecordingLogger extends Logger {
  readonly entries: { level: string; message: unknown }[] = [];
  override log(message: unknown): void {
    this.entries.push({ level: 'log', message });
  }
  override warn(message: unknown): void {
    this.entries.push({ level: 'warn', message });
  }
  override error(message: unknown): void {
    this.entries.push({ level: 'error', message });
  }
  events(event: string): Record<string, unknown>[] {
    return this.entries
      .map((entry) => entry.message as Record<string, unknown>)
      .filter((message) => typeof message === 'object' && message !== null && message.event === event);
  }
}

const eventually = (check: () => boolean | Promise<boolean>, timeoutMs = 10_000) =>
  waitFor(check, { timeoutMs });

describe('PostgresPubsub', () => {
  let db: TestDatabase;
  let publisherDs: DataSource;
  let listenerDs: DataSource;
  const opened: PostgresPubsub[] = [];

  function open(ds: DataSource, logger = new RecordingLogger()): PostgresPubsub {
    const pubsub = new PostgresPubsub(ds, new PrebuildsNamespace(), logger);
    opened.push(pubsub);
    return pubsub;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    publisherDs = await new DataSource(testDataSourceOptions(db.url, { poolSize: 4 })).initialize();
    listenerDs = await new DataSource(testDataSourceOptions(db.url, { poolSize: 4 })).initialize();
  });
  afterAll(async () => {
    for (const pubsub of opened) await pubsub.close();
    await publisherDs?.destroy();
    await listenerDs?.destroy();
    await db?.drop();
  });

  it('delivers a JSON message from one instance to another, and stops after unsubscribe', async () => {
    const publisher = open(publisherDs);
    const listener = open(listenerDs);
    const received: unknown[] = [];
    const unsubscribe = listener.subscribe(PrebuildsChannel.TemplateChanged, (payload) =>
      received.push(payload),
    );
    await listener.whenListening();

    await publisher.publish(PrebuildsChannel.TemplateChanged, { templateId: 't-1', presetId: null });
    await eventually(() => received.length === 1);
    expect(received).toEqual([{ templateId: 't-1', presetId: null }]);

    unsubscribe();
    unsubscribe();
    await listener.whenListening();
    await publisher.publish(PrebuildsChannel.TemplateChanged, { templateId: 't-2' });
    // The listener also hears its own replica: a second channel's message proves the first one was not delivered.
    const marker: unknown[] = [];
    listener.subscribe(PrebuildsChannel.JobPosted, (payload) => marker.push(payload));
    await listener.whenListening();
    await publisher.publish(PrebuildsChannel.JobPosted, { jobId: 'j' });
    await eventually(() => marker.length === 1);
    expect(received).toHaveLength(1);
  });

  it('reconnects after its backend is terminated and delivers again', async () => {
    const logger = new RecordingLogger();
    const publisher = open(publisherDs);
    const listener = open(listenerDs, logger);
    const received: { n: number }[] = [];
    listener.subscribe(PrebuildsChannel.JobCompleted, (payload) => received.push(payload as { n: number }));
    await listener.whenListening();

    const pid = listener.listenerProcessId();
    expect(pid).not.toBeNull();
    const sessions: { pid: number; query: string }[] = await publisherDs.query(
      `SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() AND pid = $1`,
      [pid],
    );
    expect(sessions[0].query).toMatch(/^LISTEN/);
    await publisherDs.query(`SELECT pg_terminate_backend($1)`, [pid]);

    // Messages sent while it is down are lost by design; keep sending until one arrives.
    let n = 0;
    await waitFor(
      async () => {
        await publisher.publish(PrebuildsChannel.JobCompleted, { n: ++n });
        return received.length > 0;
      },
      { timeoutMs: 10_000, intervalMs: 50, message: 'a message after the reconnect' },
    );
    expect(listener.listenerProcessId()).not.toBe(pid);
    const reconnects = logger.events('pubsub_reconnect');
    expect(reconnects[0]).toMatchObject({ event: 'pubsub_reconnect', attempt: 1 });
    expect(reconnects[0].delayMs).toEqual(expect.any(Number));
    expect(reconnects[0].delayMs as number).toBeLessThanOrEqual(100);
    expect(logger.events('pubsub_reconnected')).toHaveLength(1);
  });

  it('keeps delivering to other handlers when one throws', async () => {
    const logger = new RecordingLogger();
    const publisher = open(publisherDs);
    const listener = open(listenerDs, logger);
    const received: unknown[] = [];
    listener.subscribe(PrebuildsChannel.WorkspaceClaimed, () => {
      throw new Error('handler bug');
    });
    // On purpose: a handler that returns a rejected promise must be caught like one that throws.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    listener.subscribe(PrebuildsChannel.WorkspaceClaimed, async () => {
      throw new Error('async handler bug');
    });
    listener.subscribe(PrebuildsChannel.WorkspaceClaimed, (payload) => received.push(payload));
    await listener.whenListening();

    await publisher.publish(PrebuildsChannel.WorkspaceClaimed, { templateId: 'a' });
    await publisher.publish(PrebuildsChannel.WorkspaceClaimed, { templateId: 'b' });
    await eventually(() => received.length === 2);
    expect(received).toEqual([{ templateId: 'a' }, { templateId: 'b' }]);
    await eventually(() => logger.events('pubsub_handler_error').length === 4);
    expect(logger.events('pubsub_handler_error')[0]).toMatchObject({ error: 'handler bug' });
  });

  it('closes idempotently, leaving no listener session and no reconnect behind', async () => {
    const logger = new RecordingLogger();
    const listener = open(listenerDs, logger);
    listener.onModuleInit();
    listener.subscribe(PrebuildsChannel.TemplateChanged, () => undefined);
    await listener.whenListening();
    const pid = listener.listenerProcessId();
    expect(pid).not.toBeNull();

    await Promise.all([listener.onModuleDestroy(), listener.close()]);
    await listener.close();
    const listening = async () =>
      ((await publisherDs.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [pid])) as unknown[])
        .length > 0;
    await waitFor(async () => !(await listening()), {
      timeoutMs: 5_000,
      message: 'the listener session ended',
    });
    // Longer than a reconnect's backoff: a listener that came back would show in one of the samples.
    await holdsThrough(
      async () =>
        !(await listening()) &&
        listener.listenerProcessId() === null &&
        logger.events('pubsub_reconnect').length === 0,
      { windowMs: 500, message: 'no listener session, no reconnect' },
    );
  });
});
