import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../../src/app.module.js';
import { hashApiToken } from '../../src/host/auth/api-token.js';
import { loadHostConfig } from '../../src/host/config/host-config.js';
import { createHostHttpAdapter, setupHostApp } from '../../src/host/http/setup-host-app.js';
import type { HttpClaimersInput } from '../support/http-claimers.worker.js';
import { withClient } from '../support/pg.js';
import { onFreshDatabase, type BenchContext, type ScenarioOutcome } from '../support/scenario.js';
import { distribution, round } from '../support/stats.js';
import {
  CONCURRENCY,
  FULL_CLAIMS,
  claimRate,
  QUICK_CLAIMS,
  claimRows,
  countDoubles,
  runBareClaimBaseline,
  seed,
  type ClaimRun,
} from './claim.js';

const TITLE = 'claim, 64 concurrent claimers, 5,000 eligible (through HTTP)';

/**
 * The same claim race as the service scenario, but as users make it: the whole host app listening on a port
 * (bearer auth, RBAC guard, validation, the claim, JSON), 64 HTTP clients on keep-alive connections, each with its
 * own token. The host uses its default pool of 20 database connections, as `npm start` does. The clients run on a
 * worker thread (bench/support/http-claimers.worker.ts), off the server's event loop but on the same two cores as
 * the server and PostgreSQL.
 */
export async function runClaimHttp(ctx: BenchContext): Promise<ScenarioOutcome> {
  // The first answers carry the server's cold start: its JIT, each claim connection preparing its statements, each
  // token's first lookup. Measured, the first ~250 answers held every answer slower than 150 ms. Four claims per
  // client before the clock starts, as the baseline opens its connections first; taken from the claims to make, so
  // that fewer claims than eligible prebuilds remain (by more than the claimers) and the baseline makes as many.
  const warmupClaims = 4 * CONCURRENCY;
  const claims = (ctx.quick ? QUICK_CLAIMS : FULL_CLAIMS) - warmupClaims;
  const ours = await onFreshDatabase(ctx, 'claim_http', async (db) => {
    const { preset, users } = await seed(db.url);
    const tokens = users.map((_, i) => `bench-claim-token-${i}-${db.url.length}`);
    await withClient(db.url, (client) =>
      client.query(
        `INSERT INTO api_tokens (user_id, token_hash) SELECT * FROM unnest($1::uuid[], $2::text[])`,
        [users, tokens.map(hashApiToken)],
      ),
    );
    const config = loadHostConfig({
      LOG_LEVEL: 'silent',
      PREBUILDS_ENABLED: 'false',
      PROVISIONER_ENABLED: 'false',
      SEED_DEMO: 'false',
      // A quota as a real deployment has one (each claimer makes ~80 claims): the claim then takes its owner lock.
      WORKSPACE_QUOTA: '100000',
      BOOTSTRAP_ADMIN_TOKEN: 'bench-admin-token-0123456789',
    });
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.register({ config, databaseUrl: db.url }),
      createHostHttpAdapter(),
      { logger: false },
    );
    // The headers, body limits and prefix that `npm start` serves.
    setupHostApp(app, config);
    await app.listen(0, '127.0.0.1');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    try {
      const input = {
        tokens,
        body: { templateId: preset.templateId, presetId: preset.presetId },
      };
      await postOnThread({
        ...input,
        url: `${base}/api/v2/workspaces`,
        namePrefix: 'warmup-',
        requests: warmupClaims,
        expectStatus: 201,
      });
      // The server's event loop alone: how busy it is while the clients claim from their thread.
      const idle = performance.eventLoopUtilization();
      const run = await postOnThread({
        ...input,
        url: `${base}/api/v2/workspaces`,
        namePrefix: 'claim-',
        requests: claims,
        expectStatus: 201,
      });
      const loop = performance.eventLoopUtilization(idle);
      // What the host's HTTP stack costs before any route: the same clients and request count, POSTing to a path
      // that does not exist. Bearer auth (cached), the request log, the body parser, the error filter, a 404.
      const floor = await postOnThread({
        ...input,
        url: `${base}/api/v2/bench-no-such-route`,
        namePrefix: 'floor-',
        requests: claims,
        expectStatus: 404,
      });
      const doubles = await withClient(db.url, (client) => countDoubles(client, preset, run, 1));
      return { run, doubles, floor, loop };
    } finally {
      await app.close();
    }
  });
  const baseline = await runBareClaimBaseline(ctx, claims, 'claim_http_base');

  const oursLatency = distribution(ours.run.latencies);
  const baseLatency = distribution(baseline.run.latencies);
  const rows = [
    ...claimRows(TITLE, ours, baseline, 0.35),
    {
      scenario: TITLE,
      metric: 'HTTP floor, answers/s',
      unit: '/s',
      ours: round(claims / ours.floor.seconds, 0),
      baseline: claimRate(baseline.run),
      target: null,
      note: `the same clients on a route that does not exist (auth, logging, body, 404): ${round(
        ours.floor.nodeCpuMs / claims,
        3,
      )} ms of CPU per request`,
    },
    {
      scenario: TITLE,
      metric: "server's event loop busy",
      unit: '%',
      ours: round(ours.loop.utilization * 100, 1),
      baseline: null,
      target: null,
      note: `during the claims, clients on their own thread: ${round(ours.loop.active / claims, 3)} ms a claim`,
    },
  ];
  return {
    key: 'claim_http',
    rows,
    details: {
      claims,
      concurrency: CONCURRENCY,
      ours: {
        seconds: round(ours.run.seconds, 3),
        latencyMs: oursLatency,
        checks: ours.doubles,
        misses: ours.run.misses,
        floor: {
          seconds: round(ours.floor.seconds, 3),
          nodeCpuMsPerRequest: round(ours.floor.nodeCpuMs / claims, 3),
        },
        nodeCpuMsPerClaim: round(ours.run.nodeCpuMs / claims, 3),
        serverLoop: {
          utilization: round(ours.loop.utilization, 3),
          activeMsPerClaim: round(ours.loop.active / claims, 3),
        },
      },
      baseline: {
        seconds: round(baseline.run.seconds, 3),
        latencyMs: baseLatency,
        checks: baseline.doubles,
        connections: baseline.connections,
      },
    },
  };
}

/** Runs the clients on their own thread (bench/support/http-claimers.worker.ts) and answers their run. */
function postOnThread(input: HttpClaimersInput): Promise<ClaimRun> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('../support/http-claimers.worker.js', import.meta.url), {
      workerData: input,
    });
    worker.once('message', (run: ClaimRun) => resolve(run));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the HTTP claimers' thread exited with ${code}`));
    });
  });
}
