import { afterEach, beforeAll, afterAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { PrebuildsChannel } from '../../src/prebuilds/pubsub/channels.js';
import { NotificationBatcher } from '../../src/prebuilds/pubsub/notification-batcher.service.js';
import { insertPreset, insertTemplate } from '../support/fixtures.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

/** A plain LISTEN session on one of the module's channels, outside the module. */
async function listen(url: string, channel: PrebuildsChannel) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const payloads: unknown[] = [];
  const processes = new Set<number>();
  client.on('notification', (message) => {
    payloads.push(JSON.parse(message.payload ?? 'null'));
    processes.add(message.processId);
  });
  await client.query(`LISTEN ${client.escapeIdentifier(new PrebuildsNamespace().channel(channel))}`);
  return { payloads, processes, close: () => client.end() };
}

describe('NotificationBatcher on PostgreSQL', () => {
  let db: TestDatabase;
  let contexts: PrebuildsTestContext[] = [];
  let presetId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(contexts.map((ctx) => ctx.close()));
    contexts = [];
  });
  afterAll(async () => {
    await db.drop();
  });

  async function start(options: { notifyFlushMs?: number } = {}) {
    // The module's own PostgresPubsub: the point is what reaches PostgreSQL.
    const ctx = await createPrebuildsTestContext(db.url, options, { pubsub: null });
    contexts.push(ctx);
    if (!presetId) {
      const { versionId } = await insertTemplate(ctx.dataSource, {});
      presetId = await insertPreset(ctx.dataSource, versionId, { desiredInstances: 1 });
    }
    return ctx;
  }

  const eventCount = async (ctx: PrebuildsTestContext, at: Date) =>
    Number(
      (
        await ctx.dataSource.query(
          `SELECT count(*) AS n FROM prebuilds.prebuild_events WHERE created_at = $1`,
          [at],
        )
      )[0].n,
    );

  it('sends a window of wake-ups and claim events in one transaction, folding repeated messages', async () => {
    const ctx = await start({ notifyFlushMs: 50 });
    const batcher = ctx.app.get(NotificationBatcher);
    const jobs = await listen(db.url, PrebuildsChannel.JobPosted);
    const claims = await listen(db.url, PrebuildsChannel.WorkspaceClaimed);
    const transactions = jest.spyOn(ctx.dataSource, 'transaction');
    const at = new Date('2026-06-01T12:00:01Z');
    try {
      const jobIds = Array.from({ length: 20 }, () => randomUUID());
      for (const jobId of jobIds) batcher.publish(PrebuildsChannel.JobPosted, { jobId });
      for (let i = 0; i < 5; i++) {
        batcher.publish(PrebuildsChannel.WorkspaceClaimed, { templateId: 't1', presetId });
        batcher.recordEvent({ presetId, type: 'claim_succeeded', at });
      }
      await waitFor(() => jobs.payloads.length === 20 && claims.payloads.length === 1, {
        message: 'the batch',
        timeoutMs: 5_000,
      });
      expect(new Set(jobs.payloads.map((p) => (p as { jobId: string }).jobId))).toEqual(new Set(jobIds));
      expect(claims.payloads).toEqual([{ templateId: 't1', presetId }]);
      expect(await eventCount(ctx, at)).toBe(5);
      // One transaction, from one backend, for all of it.
      expect(transactions).toHaveBeenCalledTimes(1);
      expect(new Set([...jobs.processes, ...claims.processes]).size).toBe(1);
    } finally {
      transactions.mockRestore();
      await jobs.close();
      await claims.close();
    }
  });

  it('flushes what is queued when the application closes, before its connections do', async () => {
    const ctx = await start({ notifyFlushMs: 60_000 });
    const jobs = await listen(db.url, PrebuildsChannel.JobPosted);
    const at = new Date('2026-06-01T12:00:02Z');
    try {
      const batcher = ctx.app.get(NotificationBatcher);
      batcher.publish(PrebuildsChannel.JobPosted, { jobId: 'queued-at-shutdown' });
      batcher.recordEvent({ presetId, type: 'claim_missed', at });
      await ctx.close();
      contexts = contexts.filter((c) => c !== ctx);
      await waitFor(() => jobs.payloads.length === 1, {
        message: 'the wake-up sent at shutdown',
        timeoutMs: 5_000,
      });
      expect(jobs.payloads).toEqual([{ jobId: 'queued-at-shutdown' }]);
      const other = await start();
      expect(await eventCount(other, at)).toBe(1);
    } finally {
      await jobs.close();
    }
  });

  it("still wakes everyone when the batch's events cannot be written", async () => {
    const ctx = await start({ notifyFlushMs: 10 });
    const batcher = ctx.app.get(NotificationBatcher);
    const jobs = await listen(db.url, PrebuildsChannel.JobPosted);
    const at = new Date('2026-06-01T12:00:03Z');
    try {
      // An event of a preset that does not exist (deleted meanwhile) fails its foreign key, and the whole batch.
      batcher.recordEvent({ presetId: randomUUID(), type: 'claim_missed', at });
      batcher.publish(PrebuildsChannel.JobPosted, { jobId: 'despite-events' });
      await waitFor(() => jobs.payloads.length === 1, { message: 'the wake-up', timeoutMs: 5_000 });
      await batcher.flush();
      expect(jobs.payloads).toEqual([{ jobId: 'despite-events' }]);
      expect(await eventCount(ctx, at)).toBe(0);
    } finally {
      await jobs.close();
    }
  });
});
