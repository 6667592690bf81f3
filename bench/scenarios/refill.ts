import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { ClaimService } from 'nest-prebuilds';
import { DEFAULT_ORGANIZATION_ID } from '../../src/host/templates/organizations.js';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from 'nest-prebuilds';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from 'nest-prebuilds';
import { PrebuildsPubsub } from 'nest-prebuilds';
import { ReconcilerService } from 'nest-prebuilds';
import { closeClients, connectClients, withClient } from '../support/pg.js';
import { createPrebuildsApp } from '../support/prebuilds-app.js';
import { onFreshDatabase, type BenchContext, type ScenarioOutcome } from '../support/scenario.js';
import { seedPools, seedUsers, type PoolSeed, type SeededPreset } from '../support/seed.js';
import { distribution, sleep } from '../support/stats.js';

const INTERVAL_MS = 10 * 60_000;
const POLL_MS = 2;
const TIMEOUT_MS = 15_000;
const TITLE = 'refill after a claim (interval 10 min)';
const CHANNEL = 'bench_refill';

/** 1,000 full pools (the 1k no-op scale), so that the template-scoped cycle runs among realistic neighbours. */
const FULL_POOLS = (now: Date): PoolSeed => ({
  label: 'refill',
  templates: 100,
  presetsPerTemplate: 10,
  desired: 10,
  running: 10,
  deletedHistory: 2,
  oldVersion: true,
  scheduleEvery: 10,
  now,
});

/**
 * Claim, then wait for the replacement's job: with a 10-minute interval, only the NOTIFY the claim sends can make
 * that fast. The module runs its real ReconcileScheduler (enabled, real PostgresPubsub, system clock); the bench
 * watches the database on its own connection. Claims go one at a time, spread over one template's presets.
 */
export async function runRefill(ctx: BenchContext): Promise<ScenarioOutcome> {
  const rounds = ctx.quick ? 10 : 20;
  const ours = await onFreshDatabase(ctx, 'refill', async (db) => {
    const { presets, userId } = await seed(db.url);
    const app = await createPrebuildsApp({
      url: db.url,
      pubsub: 'postgres',
      // 10,000 prebuilds in all: above the default cluster cap (maxPrebuilds 5,000), which would refuse every refill.
      module: { enabled: true, reconcileIntervalMs: INTERVAL_MS, maxPrebuilds: 20_000 },
    });
    const [watcher] = await connectClients(db.url, 1);
    try {
      const pubsub = app.get(PrebuildsPubsub);
      await pubsub.whenListening();
      const reconciler = app.get(ReconcilerService);
      await sleep(50); // the scheduler's first, full cycle starts on the next tick; let it finish first
      await reconciler.idle();
      const claims = app.get(ClaimService);
      const latencies: number[] = [];
      const claimMs: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const preset = presets[i % presets.length];
        const before = await countReplacements(watcher, preset.presetId);
        const started = performance.now();
        const result = await claims.createWorkspace({
          templateId: preset.templateId,
          ownerId: userId,
          name: `refill-${i}`,
          presetId: preset.presetId,
        });
        claimMs.push(performance.now() - started);
        if (!result.claimed) throw new Error(`refill claim ${i} missed`);
        latencies.push(await waitForReplacement(watcher, preset.presetId, before, started));
        await reconciler.idle();
      }
      return {
        latency: distribution(latencies),
        claimMs: distribution(claimMs),
        ...pick(app.module.get<symbol, ResolvedPrebuildsOptions>(PREBUILDS_OPTIONS)),
      };
    } finally {
      await closeClients([watcher]);
      await app.close();
    }
  });

  const baseline = await onFreshDatabase(ctx, 'refill_base', async (db) => {
    const { presets, userId } = await seed(db.url);
    const [claimer, listener, watcher] = await connectClients(db.url, 3);
    try {
      listener.on('notification', (message) => {
        void listener.query(BARE_REPLACE, [
          message.payload,
          PREBUILDS_SYSTEM_USER_ID,
          DEFAULT_ORGANIZATION_ID,
        ]);
      });
      await listener.query(`LISTEN ${CHANNEL}`);
      const latencies: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const preset = presets[i % presets.length];
        const before = await countReplacements(watcher, preset.presetId);
        const started = performance.now();
        await claimer.query(BARE_CLAIM_AND_NOTIFY, [preset.presetId, userId, `refill-${i}`]);
        latencies.push(await waitForReplacement(watcher, preset.presetId, before, started));
      }
      return { latency: distribution(latencies) };
    } finally {
      await closeClients([claimer, listener, watcher]);
    }
  });

  return {
    key: 'refill',
    rows: [
      {
        scenario: TITLE,
        metric: 'claim → replacement job p50',
        unit: 'ms',
        ours: ours.latency.p50,
        baseline: baseline.latency.p50,
        target: { op: '<=', value: 1000 },
        note: `NOTIFY debounce ${ours.notifyDebounceMs} ms, wake-ups batched every ${ours.notifyFlushMs} ms`,
      },
    ],
    details: {
      rounds,
      intervalMs: INTERVAL_MS,
      pollMs: POLL_MS,
      ours: {
        latencyMs: ours.latency,
        claimMs: ours.claimMs,
        notifyDebounceMs: ours.notifyDebounceMs,
        notifyFlushMs: ours.notifyFlushMs,
      },
      baseline: { latencyMs: baseline.latency },
    },
  };
}

const pick = ({ notifyDebounceMs, notifyFlushMs }: ResolvedPrebuildsOptions) => ({
  notifyDebounceMs,
  notifyFlushMs,
});

async function seed(url: string): Promise<{ presets: SeededPreset[]; userId: string }> {
  return withClient(url, async (client) => {
    const all = await seedPools(client, FULL_POOLS(new Date()));
    const [userId] = await seedUsers(client, 'refill', 1);
    return { presets: all.filter((p) => p.templateId === all[0].templateId), userId };
  });
}

/** First start builds of the preset's prebuilds: grows by one when a replacement is written. */
async function countReplacements(client: pg.Client, presetId: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM prebuilds.workspace_builds
      WHERE preset_id = $1 AND transition = 'start' AND initiator_id = $2 AND build_number = 1`,
    [presetId, PREBUILDS_SYSTEM_USER_ID],
  );
  return rows[0].n;
}

/** Milliseconds from `started` until the replacement is visible, polled every POLL_MS (so ±POLL_MS). */
async function waitForReplacement(
  client: pg.Client,
  presetId: string,
  before: number,
  started: number,
): Promise<number> {
  while (performance.now() - started < TIMEOUT_MS) {
    if ((await countReplacements(client, presetId)) > before) return performance.now() - started;
    await sleep(POLL_MS);
  }
  throw new Error(`no replacement for preset ${presetId} within ${TIMEOUT_MS} ms`);
}

/** The floor of a NOTIFY-driven refill: the claim and its NOTIFY in one statement... */
const BARE_CLAIM_AND_NOTIFY = `
  WITH claimed AS (
    UPDATE prebuilds.workspaces SET owner_id = $2, name = $3, updated_at = now()
     WHERE id = (SELECT id FROM prebuilds.workspaces
                  WHERE owner_id = '${PREBUILDS_SYSTEM_USER_ID}' AND NOT deleted AND preset_id = $1
                  ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING preset_id)
  SELECT pg_notify('${CHANNEL}', preset_id::text) FROM claimed`;

/** ...and, on the listening connection, the replacement's rows in one statement. */
const BARE_REPLACE = `
  WITH wanted AS MATERIALIZED (
    SELECT gen_random_uuid() AS workspace_id, gen_random_uuid() AS build_id, gen_random_uuid() AS job_id,
           p.id AS preset_id, p.template_version_id, v.template_id
      FROM prebuilds.template_version_presets p JOIN prebuilds.template_versions v ON v.id = p.template_version_id
     WHERE p.id = $1::uuid
  ), jobs AS (
    INSERT INTO prebuilds.provisioner_jobs (id) SELECT job_id FROM wanted
  ), workspaces AS (
    INSERT INTO prebuilds.workspaces (id, organization_id, template_id, owner_id, name, preset_id, latest_build_id)
    SELECT workspace_id, $3, template_id, $2, 'prebuild-' || substr(md5(random()::text), 1, 12), preset_id, build_id
      FROM wanted
  )
  INSERT INTO prebuilds.workspace_builds (id, workspace_id, build_number, transition, template_version_id, preset_id,
                                initiator_id, reason, job_id)
  SELECT build_id, workspace_id, 1, 'start', template_version_id, preset_id, $2, 'prebuild', job_id FROM wanted`;
