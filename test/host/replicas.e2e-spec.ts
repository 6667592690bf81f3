import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { type HostProcess, startHostProcess } from '../support/host-process.js';
import { type PoolState, readPoolStates } from '../support/pool-state.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

const hostEnv = (databaseUrl: string) => ({
  DATABASE_URL: databaseUrl,
  BOOTSTRAP_ADMIN_TOKEN: 'replica-test-admin-token',
  PROVISIONER_BUILD_MS: '100',
  PREBUILDS_INTERVAL_MS: '1000',
  SEED_DEMO: 'true',
});

/** Polls until every active demo preset has eligible == desired, checking the pool never overshoots meanwhile. */
async function waitForFullPools(ds: DataSource, timeoutMs: number) {
  let last: PoolState[] = [];
  let overshoot: PoolState[] = [];
  await waitFor(
    async () => {
      last = (await readPoolStates(ds)).filter((state) => state.active);
      // Whatever the replicas do, a preset never holds more than desired (running + starting): stop at once.
      overshoot = last.filter((state) => state.actual + state.starting > state.desired);
      return (
        overshoot.length > 0 ||
        (last.length >= 4 && last.every((state) => state.eligible === state.desired && state.desired > 0))
      );
    },
    { timeoutMs, intervalMs: 200, message: 'full pools' },
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(last)}`);
  });
  expect(overshoot).toEqual([]);
  return last;
}

describe('host app', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const hosts: HostProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource(testDataSourceOptions(db.url, { poolSize: 2 })).initialize();
  });
  afterAll(async () => {
    for (const host of hosts) await host.stop();
    await ds.destroy();
    await db.drop();
  });

  it('started alone fills the demo presets on its own', async () => {
    hosts.push(await startHostProcess(hostEnv(db.url)));
    const states = await waitForFullPools(ds, 30_000);
    expect(states.map((s) => s.presetName).sort()).toEqual(['burst', 'large', 'small', 'us']);
  });

  it('as three replicas on one database, keeps every demo pool at desired without overshooting', async () => {
    // The first replica is the one that filled alone (one start-up fewer); drain the pools so that the three have
    // work to race for.
    expect(hosts).toHaveLength(1);
    await ds.query(`UPDATE prebuilds.workspaces SET deleted = true`);
    hosts.push(...(await Promise.all([2, 3].map(() => startHostProcess(hostEnv(db.url))))));
    await waitForFullPools(ds, 40_000);
    const codes = await Promise.all(hosts.map((host) => host.stop()));
    hosts.length = 0;
    expect(codes).toEqual([0, 0, 0]);
  });
});
