import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { PrebuildsLock } from '../../src/prebuilds/database/advisory-locks.js';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { PrebuildsSettingsRepository } from '../../src/prebuilds/database/settings.repository.js';
import { type HostProcess, startHostProcess } from '../support/host-process.js';
import { readPoolStates } from '../support/pool-state.js';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { type PrivateCluster, startPrivateCluster } from './private-cluster.js';

/**
 * Faults injected into a host app (a child process: node dist/src/main.js) on a PostgreSQL cluster of the tests' own:
 * a restart with a 10 s outage during a fill, the LISTEN connection terminated, a frozen reconcile lock holder, the
 * app SIGKILLed with builds running, a read-only window. After each: zero over-provisioning at every sample, no
 * workspace without a build, no build without a job, no job past its lease, the pool whole within lease + two
 * intervals, and no backoff or hard limit caused by the fault. Figures are logged as `[faults] …` lines.
 */
const INTERVAL_MS = 1_000;
const IDLE_TIMEOUT_MS = 2_000;
const TOKEN = 'faults-test-admin-token-0123456789';
const DESIRED = 6;

const hostEnv = (url: string, extra: Record<string, string> = {}) => ({
  DATABASE_URL: url,
  BOOTSTRAP_ADMIN_TOKEN: TOKEN,
  SEED_DEMO: 'true',
  PREBUILDS_INTERVAL_MS: String(INTERVAL_MS),
  PREBUILDS_LOCK_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
  PREBUILDS_LOCK_STATEMENT_TIMEOUT_MS: '5000',
  PROVISIONER_BUILD_MS: '800',
  PROVISIONER_LEASE_MS: '3000',
  PROVISIONER_HEARTBEAT_MS: '500',
  ...extra,
});

const figures: string[] = [];
const figure = (line: string) => {
  figures.push(line);
  process.stdout.write(`[faults] ${line}\n`);
};

describe('faults', () => {
  let cluster: PrivateCluster;
  let ds: DataSource;
  let url: string;
  const hosts: HostProcess[] = [];

  /** The invariants, on one sample; null when the database cannot be read (during an outage). */
  async function sample(pastLeaseSlackMs: number): Promise<{ whole: boolean } | null> {
    let states;
    let row;
    try {
      states = (await readPoolStates(ds)).filter((state) => state.active);
      [row] = await ds.query(
        `SELECT
           (SELECT count(*) FROM prebuilds.workspaces w WHERE NOT w.deleted AND NOT EXISTS
              (SELECT 1 FROM prebuilds.workspace_builds b WHERE b.id = w.latest_build_id))::int AS "noBuild",
           (SELECT count(*) FROM prebuilds.workspace_builds b WHERE NOT EXISTS
              (SELECT 1 FROM prebuilds.provisioner_jobs j WHERE j.id = b.job_id))::int AS "noJob",
           (SELECT count(*) FROM prebuilds.provisioner_jobs
             WHERE started_at IS NOT NULL AND completed_at IS NULL
               AND lease_expires_at < now() - $1 * interval '1 millisecond')::int AS "pastLease"`,
        [pastLeaseSlackMs],
      );
    } catch {
      return null;
    }
    expect(states.filter((state) => state.actual + state.starting > state.desired)).toEqual([]);
    expect(row).toEqual({ noBuild: 0, noJob: 0, pastLease: 0 });
    return {
      whole:
        states.length > 0 && states.every((state) => state.eligible === state.desired && state.desired > 0),
    };
  }

  /** Samples every 200 ms until the pools are whole; returns the ms it took. */
  async function untilWhole(timeoutMs: number, pastLeaseSlackMs = INTERVAL_MS + 1_000): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if ((await sample(pastLeaseSlackMs))?.whole) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`pools not whole within ${timeoutMs} ms`);
  }

  /** Waits for `condition` with a deadline, sampling the invariants meanwhile. */
  async function until(
    condition: () => Promise<boolean>,
    timeoutMs: number,
    what: string,
    pastLeaseSlackMs = INTERVAL_MS + 1_000,
  ): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      await sample(pastLeaseSlackMs);
      if (await condition().catch(() => false)) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${what}: not within ${timeoutMs} ms`);
  }

  /** No backoff, no hard limit, no failure a provisioner reported: the faults were infrastructure. */
  async function expectNoBackoffNorHardLimit(): Promise<void> {
    const response = await fetch(`http://127.0.0.1:${hosts[0].port}/api/v2/prebuilds/status`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    const status = (await response.json()) as {
      presets: { active: boolean; status: string; backoffUntil: string | null }[];
    };
    for (const preset of status.presets.filter((p) => p.active)) {
      expect(preset).toMatchObject({ status: 'healthy', backoffUntil: null });
    }
    const [{ buildFailures }] = await ds.query(
      `SELECT count(*)::int AS "buildFailures" FROM prebuilds.provisioner_jobs WHERE failure_kind = 'build'`,
    );
    expect(buildFailures).toBe(0);
  }

  async function startHost(extra: Record<string, string> = {}): Promise<HostProcess> {
    const host = await startHostProcess(hostEnv(url, extra), 30_000);
    hosts.push(host);
    return host;
  }

  async function stopHosts(): Promise<void> {
    await Promise.all(hosts.map((host) => host.stop()));
    hosts.length = 0;
  }

  /** Drains the pools (every prebuild deleted) so that the next scenario fills them again. */
  async function drain(): Promise<void> {
    await ds.query(`UPDATE prebuilds.workspaces SET deleted = true WHERE NOT deleted`);
  }

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE faults');
    await admin.end();
    url = cluster.url('faults');
    // The first host migrates the schema and seeds the demo template.
    await startHost();
    ds = await new DataSource(testDataSourceOptions(url, { poolSize: 3 })).initialize();
    await ds.query(
      // The pools a fault must restore stay fixed: no demand-sized target (the demo's burst preset) moves them.
      `UPDATE prebuilds.template_version_presets SET desired_instances = $1, desired_instances_expression = NULL
        WHERE desired_instances IS NOT NULL`,
      [DESIRED],
    );
    await ds.query(`DELETE FROM prebuilds.prebuild_schedules`);
    await untilWhole(60_000);
    await stopHosts();
  }, 120_000);

  afterAll(async () => {
    await stopHosts();
    await ds?.destroy().catch(() => undefined);
    cluster?.destroy();
    process.stdout.write(`[faults] summary:\n${figures.map((line) => `  ${line}`).join('\n')}\n`);
  });

  it('a database restart with a 10 s outage during a fill loses no build; the pool is whole soon after', async () => {
    await drain();
    // The lease outlives the outage (as the default 30 s does a 10 s one), so that no build is lost.
    await startHost({
      PROVISIONER_LEASE_MS: '15000',
      PROVISIONER_HEARTBEAT_MS: '1000',
      PROVISIONER_BUILD_MS: '3000',
    });
    await until(
      async () => {
        const [{ running }] = await ds.query(
          `SELECT count(*)::int AS running FROM prebuilds.provisioner_jobs WHERE job_status = 'running'`,
        );
        return running >= 4;
      },
      20_000,
      'builds running',
    );
    const [{ inFlight }] = await ds.query(
      `SELECT array_agg(id) AS "inFlight" FROM prebuilds.provisioner_jobs WHERE job_status = 'running'`,
    );
    cluster.stop('fast');
    // The fault itself: 10 s without a database (not a wait for a condition).
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    cluster.start();
    const wholeAfter = await untilWhole(15_000 + 2 * INTERVAL_MS + 20_000);
    figure(`outage 10 s: pool whole ${wholeAfter} ms after the database returned`);
    expect(wholeAfter).toBeLessThanOrEqual(15_000 + 2 * INTERVAL_MS + 20_000);
    const jobs: { status: string; attempts: number }[] = await ds.query(
      `SELECT job_status AS status, attempts FROM prebuilds.provisioner_jobs WHERE id = ANY($1::uuid[])`,
      [inFlight],
    );
    // Every build running when the database went away was completed by the worker that held it.
    expect(jobs.filter((job) => job.status !== 'succeeded' || job.attempts !== 1)).toEqual([]);
    await expectNoBackoffNorHardLimit();
    await stopHosts();
  }, 90_000);

  it('the LISTEN connection terminated: the host reconnects and refills', async () => {
    await startHost();
    await untilWhole(20_000);
    const [{ terminated }] = await ds.query(
      `SELECT count(pg_terminate_backend(pid))::int AS terminated FROM pg_stat_activity
        WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
    );
    expect(terminated).toBeGreaterThan(0);
    await drain();
    const wholeAfter = await untilWhole(3_000 + 2 * INTERVAL_MS + 10_000);
    figure(`LISTEN terminated: drained pool whole again after ${wholeAfter} ms`);
    await expectNoBackoffNorHardLimit();
  }, 60_000);

  it('a frozen lock holder loses the lock within the idle timeout and the host cycles again', async () => {
    // A second "replica" takes the reconcile lock the way the module's cycle does (same statement, same bounds),
    // then freezes: it never sends another statement.
    const frozen = await new DataSource(testDataSourceOptions(url, { poolSize: 1 })).initialize();
    const runner = frozen.createQueryRunner();
    await runner.connect();
    const settings = new PrebuildsSettingsRepository(frozen, new PrebuildsNamespace());
    // Wait for the host's own cycle to be between cycles, then grab the lock.
    let lock = { acquired: false, paused: false };
    const grabDeadline = Date.now() + 10_000;
    while (!lock.acquired && Date.now() < grabDeadline) {
      await runner.startTransaction();
      await runner.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      lock = await settings.tryReconcileLock(runner.manager, {
        statementTimeoutMs: 5_000,
        idleTimeoutMs: IDLE_TIMEOUT_MS,
        workMemMb: 0,
      });
      if (!lock.acquired) await runner.rollbackTransaction();
    }
    expect(lock.acquired).toBe(true);
    const frozenAt = Date.now();
    const [{ before }] = await ds.query(
      `SELECT last_cycle_completed_at AS before FROM prebuilds.prebuilds_settings`,
    );
    // While it is held, no cycle completes (sampled over most of the idle timeout).
    await drain();
    const stall = await until(
      async () => {
        const [{ after, held }] = await ds.query(
          `SELECT s.last_cycle_completed_at AS after,
                  EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = ($1::int)::oid
                            AND l.objid = ($2::int)::oid AND l.granted) AS held
             FROM prebuilds.prebuilds_settings s`,
          [new PrebuildsNamespace().lockNamespace, PrebuildsLock.Reconcile],
        );
        return !held || after.getTime() > before.getTime();
      },
      IDLE_TIMEOUT_MS + 5_000,
      'lock released',
    );
    const cycled = await until(
      async () => {
        const [{ after }] = await ds.query(
          `SELECT last_cycle_completed_at AS after FROM prebuilds.prebuilds_settings`,
        );
        return after.getTime() > before.getTime();
      },
      IDLE_TIMEOUT_MS + 2 * INTERVAL_MS + 5_000,
      'a cycle after the freeze',
    );
    figure(
      `frozen holder: lock released after ${stall} ms, next cycle ${Date.now() - frozenAt} ms after the freeze (idle timeout ${IDLE_TIMEOUT_MS} ms)`,
    );
    expect(Date.now() - frozenAt).toBeLessThanOrEqual(IDLE_TIMEOUT_MS + 2 * INTERVAL_MS + 3_000);
    expect(cycled).toBeGreaterThanOrEqual(0);
    await runner.release().catch(() => undefined);
    await frozen.destroy().catch(() => undefined);
    await untilWhole(3_000 + 2 * INTERVAL_MS + 10_000);
    await expectNoBackoffNorHardLimit();
    await stopHosts();
  }, 60_000);

  it('the app SIGKILLed with builds running: its jobs are back in the queue within one lease after restart', async () => {
    await drain();
    // Builds that never finish before the kill.
    const doomed = await startHost({ PROVISIONER_BUILD_MS: '600000' });
    await until(
      async () => {
        const [{ running }] = await ds.query(
          `SELECT count(*)::int AS running FROM prebuilds.provisioner_jobs WHERE job_status = 'running'`,
        );
        return running >= 4;
      },
      20_000,
      'builds running',
    );
    const [{ lost }] = await ds.query(
      `SELECT array_agg(id) AS lost FROM prebuilds.provisioner_jobs WHERE job_status = 'running'`,
    );
    const killedAt = Date.now();
    doomed.child.kill('SIGKILL');
    await doomed.stop();
    hosts.length = 0;
    await startHost();
    const restartedAt = Date.now();
    const backAfter = await until(
      async () => {
        const [{ held }] = await ds.query(
          `SELECT count(*)::int AS held FROM prebuilds.provisioner_jobs
            WHERE id = ANY($1::uuid[]) AND started_at IS NOT NULL AND completed_at IS NULL AND attempts = 1`,
          [lost],
        );
        return held === 0;
      },
      3_000 + INTERVAL_MS + 5_000,
      'lost jobs back in the queue',
      // No replica was alive to sweep while the app was down and starting again.
      10_000,
    );
    figure(
      `SIGKILL with ${lost.length} builds running: back in the queue ${backAfter} ms after the restart was ready, ` +
        `${Date.now() - killedAt} ms after the kill (lease 3000 ms)`,
    );
    expect(backAfter).toBeLessThanOrEqual(3_000 + INTERVAL_MS + 1_000);
    const wholeAfter = await untilWhole(3_000 + 2 * INTERVAL_MS + 15_000);
    figure(`SIGKILL: pool whole ${Date.now() - restartedAt} ms after restart`);
    expect(wholeAfter).toBeGreaterThanOrEqual(0);
    const [{ failed }] = await ds.query(
      `SELECT count(*)::int AS failed FROM prebuilds.provisioner_jobs WHERE id = ANY($1::uuid[]) AND job_status <> 'succeeded'`,
      [lost],
    );
    expect(failed).toBe(0);
    await expectNoBackoffNorHardLimit();
  }, 90_000);

  it('a read-only window: writes answer 503 DATABASE_UNAVAILABLE with Retry-After, then the pool is whole again', async () => {
    await untilWhole(20_000);
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    try {
      await admin.query(`ALTER SYSTEM SET default_transaction_read_only = on`);
      await admin.query(`SELECT pg_reload_conf()`);
      // Drain through a session that overrides the read-only default, so that the host has work it cannot write.
      await ds.query(
        `BEGIN READ WRITE; UPDATE prebuilds.workspaces SET deleted = true WHERE NOT deleted; COMMIT`,
      );
      const started = Date.now();
      let answer: Response | null = null;
      await until(
        async () => {
          answer = await fetch(`http://127.0.0.1:${hosts[0].port}/api/v2/prebuilds/settings`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ reconciliationPaused: false }),
          });
          return answer.status === 503;
        },
        5_000,
        'a 503 while read-only',
        // Nothing can be written, the lease sweep included, while the window lasts.
        10_000,
      );
      expect(answer!.headers.get('retry-after')).toBe('5');
      expect(await answer!.json()).toMatchObject({ statusCode: 503, code: 'DATABASE_UNAVAILABLE' });
      // The module's readiness stays per replica: the database answers, so this replica is ready.
      expect((await fetch(`http://127.0.0.1:${hosts[0].port}/api/v2/readyz`)).status).toBe(200);
      // The fault lasts a few seconds more.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 5_000 - (Date.now() - started))));
    } finally {
      await admin.query(`ALTER SYSTEM RESET default_transaction_read_only`);
      await admin.query(`SELECT pg_reload_conf()`);
      await admin.end();
    }
    const wholeAfter = await untilWhole(3_000 + 2 * INTERVAL_MS + 15_000, 10_000);
    figure(`read-only 5 s: pool whole ${wholeAfter} ms after writes returned`);
    await expectNoBackoffNorHardLimit();
    await stopHosts();
  }, 60_000);
});
