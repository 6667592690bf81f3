import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../src/app.module.js';
import { hashApiToken } from '../../src/host/auth/api-token.js';
import { loadHostConfig } from '../../src/host/config/host-config.js';
import { withClient } from '../support/pg.js';
import { onFreshDatabase, type BenchContext, type ScenarioOutcome } from '../support/scenario.js';
import { distribution, round } from '../support/stats.js';
import {
  CONCURRENCY,
  FULL_CLAIMS,
  QUICK_CLAIMS,
  claimRows,
  countDoubles,
  runBareClaimBaseline,
  runClaimers,
  seed,
} from './claim.js';

const TITLE = 'claim, 64 concurrent claimers, 5,000 eligible (through HTTP)';

/**
 * The same claim race as the service scenario, but as users make it: the whole host app listening on a port
 * (bearer auth, RBAC guard, validation, the claim, JSON), 64 HTTP clients on keep-alive connections, each with its
 * own token. The host uses its default pool of 20 database connections, as `npm start` does.
 */
export async function runClaimHttp(ctx: BenchContext): Promise<ScenarioOutcome> {
  const claims = ctx.quick ? QUICK_CLAIMS : FULL_CLAIMS;
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
    const app = await NestFactory.create(AppModule.register({ config, databaseUrl: db.url }), {
      logger: false,
    });
    app.setGlobalPrefix('api/v2', { exclude: ['/'] });
    await app.listen(0, '127.0.0.1');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    try {
      const claimOverHttp = async (claimer: number, name: string) => {
        const response = await fetch(`${base}/api/v2/workspaces`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens[claimer]}`, 'content-type': 'application/json' },
          body: JSON.stringify({ templateId: preset.templateId, name, presetId: preset.presetId }),
        });
        const body = (await response.json()) as { id: string; claimed: boolean };
        if (response.status !== 201)
          throw new Error(`POST /workspaces answered ${response.status}: ${JSON.stringify(body)}`);
        return body;
      };
      await claimOverHttp(0, 'warmup');
      const run = await runClaimers(claims, async (claimer, n) => {
        const result = await claimOverHttp(claimer, `claim-${n}`);
        return result.claimed ? result.id : null;
      });
      const doubles = await withClient(db.url, (client) => countDoubles(client, preset, run, 1));
      return { run, doubles };
    } finally {
      await app.close();
    }
  });
  const baseline = await runBareClaimBaseline(ctx, claims, 'claim_http_base');

  const oursLatency = distribution(ours.run.latencies);
  const baseLatency = distribution(baseline.run.latencies);
  const rows = claimRows(TITLE, ours, baseline, 0.35);
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
