import { ReconcileMetricsObserver } from '../../src/prebuilds/metrics/reconcile-metrics.observer.js';
import { ReconcileObserver } from '../../src/prebuilds/reconciler/reconcile-observer.js';
import { ReconcilerFreshnessIndicator } from '../../src/prebuilds/health/reconciler-freshness.health.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { ProvisionerJobService } from '../../src/prebuilds/provisioner/provisioner-job.service.js';
import { FakeClock } from '../support/fake-clock.js';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import {
  adminClient,
  type AdminClient,
  API,
  bearer,
  createTemplate,
  type CreatedTemplate,
  expectError,
  insertRunning,
} from './http-kit.js';

/** GET /metrics over HTTP after real cycles, claims and job results: names, labels and values. */

const METRIC_NAMES = [
  ...[
    'prebuilds_created_total',
    'prebuilds_failed_total',
    'prebuilds_claimed_total',
    'prebuilds_claim_misses_total',
  ],
  ...['prebuilds_desired', 'prebuilds_running', 'prebuilds_eligible', 'prebuilds_preset_hard_limited'],
  ...[
    'prebuilds_preset_validation_failed',
    'prebuilds_reconciliation_paused',
    'prebuilds_last_cycle_timestamp_seconds',
  ],
  ...['prebuilds_reconcile_duration_seconds', 'prebuilds_claim_duration_seconds'],
];
const PRESET_GAUGES = [
  'prebuilds_desired',
  'prebuilds_running',
  'prebuilds_eligible',
  'prebuilds_preset_hard_limited',
  'prebuilds_preset_validation_failed',
];

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (our label values hold no quotes, commas or escapes). */
function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]),
      );
      return { name: match[1], labels, value: Number(match[3]) };
    });
}

describe('GET /metrics', () => {
  let db: TestDatabase;
  let host: HostTestApp;
  let admin: AdminClient;
  const clock = new FakeClock('2026-06-01T12:00:00Z');

  const scrape = async () => {
    const res = await host.http.get(`${API}/metrics`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return { text: res.text, samples: parseExposition(res.text) };
  };
  const labels = (t: CreatedTemplate, preset: string) => ({
    organization: t.organizationId,
    template: t.name,
    preset,
  });
  const valueOf = (samples: Sample[], name: string, wanted: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && expect.objectContaining(wanted).asymmetricMatch(s.labels));
  /** Acquires every pending job and completes it, failing those whose workspace `fail` picks. */
  const drainJobs = async (fail: (workspaceId: string) => boolean = () => false) => {
    const jobs = host.app.get(ProvisionerJobService);
    for (let job = await jobs.acquireNext('test'); job; job = await jobs.acquireNext('test')) {
      await jobs.complete(job.jobId, fail(job.workspaceId) ? { error: 'boom' } : {});
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url, {}, { clock });
    admin = adminClient(host);
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  it('after cycles, a claim, a miss and a failed build: every metric, per-preset ones labelled', async () => {
    const t = await createTemplate(host, [
      { name: 'alpha', prebuilds: { instances: 2 } },
      { name: 'beta', prebuilds: { instances: 1 } },
    ]);
    await insertRunning(host, t, 'alpha', { count: 2, now: clock.now() });
    await admin.reconcile().expect(200); // creates beta's one prebuild
    const claim = { templateId: t.id, presetId: t.presetIds.alpha, name: 'claimed' };
    const member = bearer(host.tokens.member);
    expect((await host.http.post(`${API}/workspaces`).set(member).send(claim).expect(201)).body.claimed).toBe(
      true,
    );
    const miss = { templateId: t.id, presetId: t.presetIds.beta, name: 'missed' };
    expect((await host.http.post(`${API}/workspaces`).set(member).send(miss).expect(201)).body.claimed).toBe(
      false,
    );
    const [betaPrebuild] = await host.dataSource.query(
      `SELECT id FROM prebuilds.workspaces WHERE preset_id = $1 AND owner_id = $2`,
      [t.presetIds.beta, PREBUILDS_SYSTEM_USER_ID],
    );
    await drainJobs((workspaceId) => workspaceId === betaPrebuild.id);
    clock.advance(5000);
    await admin.reconcile().expect(200); // replaces the claimed alpha; beta backs off

    const { text, samples } = await scrape();
    for (const name of METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
    const alpha = labels(t, 'alpha');
    const beta = labels(t, 'beta');
    const expected: [string, Record<string, string>, number][] = [
      ['prebuilds_desired', alpha, 2],
      ['prebuilds_running', alpha, 1],
      ['prebuilds_eligible', alpha, 1],
      ['prebuilds_preset_hard_limited', alpha, 0],
      ['prebuilds_preset_validation_failed', alpha, 0],
      ['prebuilds_desired', beta, 1],
      ['prebuilds_running', beta, 0],
      ['prebuilds_created_total', beta, 1],
      ['prebuilds_created_total', alpha, 1],
      ['prebuilds_failed_total', beta, 1],
      ['prebuilds_claimed_total', alpha, 1],
      ['prebuilds_claim_misses_total', beta, 1],
      ['prebuilds_claim_duration_seconds_count', alpha, 1],
      ['prebuilds_reconcile_duration_seconds_count', {}, 2],
      ['prebuilds_reconciliation_paused', {}, 0],
      ['prebuilds_last_cycle_timestamp_seconds', {}, clock.now().getTime() / 1000],
    ];
    for (const [name, wanted, value] of expected) {
      expect([name, wanted, valueOf(samples, name, wanted).map((s) => s.value)]).toEqual([
        name,
        wanted,
        [value],
      ]);
    }
    // Per-preset series carry exactly organization, template and preset.
    for (const name of [...PRESET_GAUGES, 'prebuilds_created_total', 'prebuilds_claimed_total']) {
      for (const sample of valueOf(samples, name)) {
        expect(Object.keys(sample.labels).sort()).toEqual(['organization', 'preset', 'template']);
      }
    }
    expect(valueOf(samples, 'prebuilds_failed_total', alpha)).toEqual([]);

    // The readiness probe's freshness check (in the host's health module) reports the cluster's last cycle age
    // through the module's ReconcileObserver, which must reach it there.
    host.app.get(ReconcileObserver, { strict: false }).recordClusterFreshness(12.5);
    const [age] = valueOf((await scrape()).samples, 'prebuilds_cluster_last_cycle_age_seconds');
    expect(age?.value).toBe(12.5);
    const indicator = host.app.get(ReconcilerFreshnessIndicator, { strict: false });
    expect((indicator as unknown as { observer?: unknown }).observer).toBeInstanceOf(
      ReconcileMetricsObserver,
    );
  });

  it('drops the gauge series of a deleted template once the snapshot no longer has it', async () => {
    const kept = await createTemplate(host, [{ name: 'kept', prebuilds: { instances: 0 } }]);
    const idle = await createTemplate(host, [{ name: 'idle', prebuilds: { instances: 0 } }]);
    const busy = await createTemplate(host, [{ name: 'busy', prebuilds: { instances: 1 } }]);
    await insertRunning(host, busy, 'busy', { count: 1, now: clock.now() });
    await admin.reconcile().expect(200);
    const series = (samples: Sample[], t: CreatedTemplate) =>
      PRESET_GAUGES.flatMap((name) => valueOf(samples, name, { template: t.name }));
    for (const t of [kept, idle, busy]) expect(series((await scrape()).samples, t)).toHaveLength(5);

    const auth = bearer(host.tokens.owner);
    for (const t of [idle, busy]) await host.http.delete(`${API}/templates/${t.id}`).set(auth).expect(204);
    await admin.reconcile().expect(200); // deletes busy's prebuild; the snapshot still saw it running
    let samples = (await scrape()).samples;
    expect(series(samples, idle)).toEqual([]);
    expect(valueOf(samples, 'prebuilds_desired', { template: busy.name }).map((s) => s.value)).toEqual([0]);
    expect(valueOf(samples, 'prebuilds_running', { template: busy.name }).map((s) => s.value)).toEqual([1]);

    await drainJobs(); // the delete job completes: busy has no prebuild left
    await admin.reconcile().expect(200);
    samples = (await scrape()).samples;
    expect(series(samples, busy)).toEqual([]);
    expect(series(samples, idle)).toEqual([]);
    expect(series(samples, kept)).toHaveLength(5);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  let db: TestDatabase;
  let host: HostTestApp;
  const TOKEN = 'metrics-scraper-token-0123456789';

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url, { METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'not-the-metrics-token'],
    ["the owner's API token", 'owner'],
  ])('answers 401 UNAUTHENTICATED with %s', async (_case, token) => {
    let request = host.http.get(`${API}/metrics`);
    if (token) request = request.set(bearer(token === 'owner' ? host.tokens.owner : token));
    const res = await request.expect(401);
    expectError(res.body, 401, 'UNAUTHENTICATED');
  });

  it('answers 200 with the token, and leaves the probes open', async () => {
    const res = await host.http.get(`${API}/metrics`).set(bearer(TOKEN)).expect(200);
    expect(res.text).toContain('# TYPE prebuilds_desired gauge');
    await host.http.get(`${API}/healthz`).expect(200);
    await host.http.get(`${API}/readyz`).expect(200);
  });
});
