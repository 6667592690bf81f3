import { describe, expect, it } from '@jest/globals';
import { ClaimMetricsObserver } from './claim-metrics.observer.js';
import { type PresetMetricsInput, PrebuildsMetricsService } from './prebuilds-metrics.service.js';

function preset(
  overrides: Partial<PresetMetricsInput> & { presetId: string; preset: string },
): PresetMetricsInput {
  return {
    organization: 'org-1',
    template: 'go',
    desired: 2,
    running: 1,
    eligible: 1,
    hardLimited: false,
    validationFailed: false,
    ...overrides,
  };
}

/** The sample lines of one metric, without HELP/TYPE. */
async function samples(metrics: PrebuildsMetricsService, name: string): Promise<string[]> {
  const text = await metrics.metrics();
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('PrebuildsMetricsService', () => {
  it('exposes every metric of the issue in its own registry', async () => {
    const metrics = new PrebuildsMetricsService();
    const names = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'prebuilds_created_total',
        'prebuilds_failed_total',
        'prebuilds_claimed_total',
        'prebuilds_claim_misses_total',
        'prebuilds_desired',
        'prebuilds_running',
        'prebuilds_eligible',
        'prebuilds_preset_hard_limited',
        'prebuilds_preset_validation_failed',
        'prebuilds_reconciliation_paused',
        'prebuilds_last_cycle_timestamp_seconds',
        'prebuilds_reconcile_duration_seconds',
        'prebuilds_claim_duration_seconds',
        'process_cpu_user_seconds_total',
      ]),
    );
    // Two instances do not collide, as they would on prom-client's global registry.
    expect(() => new PrebuildsMetricsService()).not.toThrow();
  });

  it('sets the gauges from a snapshot and drops the series of presets that are gone', async () => {
    const metrics = new PrebuildsMetricsService();
    metrics.recordSnapshot([
      preset({ presetId: 'p1', preset: 'small', desired: 3, running: 2, eligible: 1 }),
      preset({
        presetId: 'p2',
        preset: 'large',
        template: 'rust',
        hardLimited: true,
        validationFailed: true,
      }),
    ]);
    expect(await samples(metrics, 'prebuilds_desired')).toEqual([
      'prebuilds_desired{organization="org-1",template="go",preset="small"} 3',
      'prebuilds_desired{organization="org-1",template="rust",preset="large"} 2',
    ]);
    expect(await samples(metrics, 'prebuilds_preset_hard_limited')).toContain(
      'prebuilds_preset_hard_limited{organization="org-1",template="rust",preset="large"} 1',
    );

    metrics.recordSnapshot([
      preset({ presetId: 'p1', preset: 'small', desired: 1, running: 1, eligible: 1 }),
    ]);
    const text = await metrics.metrics();
    expect(text).not.toContain('template="rust"');
    expect(await samples(metrics, 'prebuilds_running')).toEqual([
      'prebuilds_running{organization="org-1",template="go",preset="small"} 1',
    ]);
  });

  it('sums presets that share labels (an old and a new version of the same preset)', async () => {
    const metrics = new PrebuildsMetricsService();
    metrics.recordSnapshot([
      preset({ presetId: 'old', preset: 'small', desired: 0, running: 2, eligible: 0 }),
      preset({ presetId: 'new', preset: 'small', desired: 2, running: 1, eligible: 1, hardLimited: true }),
    ]);
    expect(await samples(metrics, 'prebuilds_running')).toEqual([
      'prebuilds_running{organization="org-1",template="go",preset="small"} 3',
    ]);
    expect(await samples(metrics, 'prebuilds_desired')).toEqual([
      'prebuilds_desired{organization="org-1",template="go",preset="small"} 2',
    ]);
    expect(await samples(metrics, 'prebuilds_preset_hard_limited')).toEqual([
      'prebuilds_preset_hard_limited{organization="org-1",template="go",preset="small"} 1',
    ]);
  });

  it('records cycles: duration, completion time and pause', async () => {
    const metrics = new PrebuildsMetricsService();
    metrics.recordCycle({
      durationSeconds: 0.2,
      completedAt: new Date('2026-01-01T00:00:10Z'),
      paused: true,
    });
    expect(await samples(metrics, 'prebuilds_last_cycle_timestamp_seconds')).toEqual([
      'prebuilds_last_cycle_timestamp_seconds 1767225610',
    ]);
    expect(await samples(metrics, 'prebuilds_reconciliation_paused')).toEqual([
      'prebuilds_reconciliation_paused 1',
    ]);
    expect(await metrics.metrics()).toContain('prebuilds_reconcile_duration_seconds_count 1');
  });

  it('counts creations and failures per preset, ignoring zero counts', async () => {
    const metrics = new PrebuildsMetricsService();
    const labels = { organization: 'org-1', template: 'go', preset: 'small' };
    metrics.recordCreated(labels, 3);
    metrics.recordCreated(labels, 0);
    metrics.recordFailed({ ...labels, extra: 'ignored' } as typeof labels, 1);
    expect(await samples(metrics, 'prebuilds_created_total')).toEqual([
      'prebuilds_created_total{organization="org-1",template="go",preset="small"} 3',
    ]);
    expect(await samples(metrics, 'prebuilds_failed_total')).toEqual([
      'prebuilds_failed_total{organization="org-1",template="go",preset="small"} 1',
    ]);
  });
});

describe('ClaimMetricsObserver', () => {
  it('counts claims and misses under the labels of the last snapshot, and times claims', async () => {
    const metrics = new PrebuildsMetricsService();
    const observer = new ClaimMetricsObserver(metrics);
    metrics.recordSnapshot([preset({ presetId: 'p1', preset: 'small' })]);

    observer.recordClaim('p1', true, 0.004);
    observer.recordClaim('p1', true, 0.006);
    observer.recordClaim('p1', false, 0.002);

    expect(await samples(metrics, 'prebuilds_claimed_total')).toEqual([
      'prebuilds_claimed_total{organization="org-1",template="go",preset="small"} 2',
    ]);
    expect(await samples(metrics, 'prebuilds_claim_misses_total')).toEqual([
      'prebuilds_claim_misses_total{organization="org-1",template="go",preset="small"} 1',
    ]);
    expect(await metrics.metrics()).toContain(
      'prebuilds_claim_duration_seconds_count{organization="org-1",template="go",preset="small"} 2',
    );
  });

  it('labels a preset the snapshot has not seen by its id', async () => {
    const metrics = new PrebuildsMetricsService();
    new ClaimMetricsObserver(metrics).recordClaim('p-new', false, 0.01);
    expect(await samples(metrics, 'prebuilds_claim_misses_total')).toEqual([
      'prebuilds_claim_misses_total{organization="",template="",preset="p-new"} 1',
    ]);
  });

  it('computes the per-preset gauges when scraped, once per snapshot, not when the cycle records it', async () => {
    const metrics = new PrebuildsMetricsService();
    let computed = 0;
    const snapshot = (desired: number) => () => {
      computed += 1;
      return [preset({ presetId: 'p1', preset: 'small', desired })];
    };
    metrics.recordSnapshot(snapshot(3));
    metrics.recordSnapshot(snapshot(4));
    expect(computed).toBe(0);

    expect(await samples(metrics, 'prebuilds_desired')).toEqual([
      'prebuilds_desired{organization="org-1",template="go",preset="small"} 4',
    ]);
    await metrics.metrics();
    expect(computed).toBe(1);

    metrics.recordSnapshot(snapshot(5));
    expect(await samples(metrics, 'prebuilds_desired')).toEqual([
      'prebuilds_desired{organization="org-1",template="go",preset="small"} 5',
    ]);
    expect(computed).toBe(2);
  });
});
