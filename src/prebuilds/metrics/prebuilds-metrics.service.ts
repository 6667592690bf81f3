import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ClaimLatency } from '../claim/claim-observer.js';
import { DEMAND_WINDOWS, hitRates, NO_DEMAND, type DemandRow, type WindowCounts } from '../state/demand.js';
import { histogramQuantile } from './histogram-quantile.js';

const LABEL_NAMES = ['organization', 'template', 'preset'] as const;

export type PresetMetricLabels = Record<(typeof LABEL_NAMES)[number], string>;

/** One preset as the last reconcile snapshot saw it. */
export interface PresetMetricsInput extends PresetMetricLabels {
  presetId: string;
  desired: number;
  running: number;
  eligible: number;
  hardLimited: boolean;
  validationFailed: boolean;
}

export interface CycleMetricsInput {
  durationSeconds: number;
  completedAt: Date;
  paused: boolean;
}

/** Labels for a preset row of the snapshot. Organization is the id: the snapshot does not read its name. */
export function presetMetricLabels(preset: {
  organizationId: string;
  templateName: string;
  presetName: string;
}): PresetMetricLabels {
  return { organization: preset.organizationId, template: preset.templateName, preset: preset.presetName };
}

/**
 * The module's Prometheus metrics, in a registry of its own (not prom-client's global one) so that several apps or
 * test modules in one process never collide on metric names.
 */
@Injectable()
export class PrebuildsMetricsService {
  readonly registry = new Registry();

  private readonly created = this.counter('prebuilds_created_total', 'Prebuilds whose creation was started.');
  private readonly failed = this.counter('prebuilds_failed_total', 'Prebuild builds that failed.');
  private readonly jobFailures = new Counter({
    name: 'prebuilds_job_failures_total',
    help: 'Provisioner jobs that failed, by kind: build (reported by a provisioner; feeds backoff), provisioner_lost, timeout, canceled (infrastructure).',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly capClamps = new Counter({
    name: 'prebuilds_cap_clamps_total',
    help: 'Presets whose desired count or creates a cap clamped in a reconcile cycle, by cap (DESIGN.md rule 11).',
    labelNames: ['cap'],
    registers: [this.registry],
  });
  private readonly lastCycleAge = new Gauge({
    name: 'prebuilds_cluster_last_cycle_age_seconds',
    help: 'Age, in database time, of the last reconcile cycle completed by any replica (as last read by this replica).',
    registers: [this.registry],
  });
  private readonly claimed = this.counter('prebuilds_claimed_total', 'Prebuilds handed to a user.');
  private readonly claimMisses = this.counter(
    'prebuilds_claim_misses_total',
    'Workspace creations with a preset that found no eligible prebuild.',
  );

  private readonly paused = new Gauge({
    name: 'prebuilds_reconciliation_paused',
    help: '1 when reconciliation is paused.',
    registers: [this.registry],
  });
  private readonly lastCycle = new Gauge({
    name: 'prebuilds_last_cycle_timestamp_seconds',
    help: 'Unix time at which this replica last completed a reconcile cycle.',
    registers: [this.registry],
  });
  private readonly reconcileDuration = new Histogram({
    name: 'prebuilds_reconcile_duration_seconds',
    help: 'Duration of reconcile cycles.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly expressionErrors = new Counter({
    name: 'prebuilds_target_expression_errors_total',
    help: "Evaluations of a preset's target expression that failed (the scheduled target was used instead).",
    labelNames: LABEL_NAMES,
    registers: [this.registry],
  });
  private readonly claimDuration = new Histogram({
    name: 'prebuilds_claim_duration_seconds',
    help: 'Duration of successful prebuild claims.',
    labelNames: LABEL_NAMES,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /**
   * The last snapshot's presets, as given: turned into series only when someone needs them (a scrape, a claim's
   * labels), so that a cycle pays nothing for metrics nobody reads, however many presets it saw.
   */
  private source: () => readonly PresetMetricsInput[] = () => [];
  private demandSource: () => Promise<readonly DemandRow[]> = () => Promise.resolve([]);
  private series: PresetSeries | null = null;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.presetGauge('prebuilds_desired', 'Prebuilds the preset wants now.', (p) => p.desired);
    this.presetGauge('prebuilds_running', 'Running prebuilds (expired included).', (p) => p.running);
    this.presetGauge('prebuilds_eligible', 'Running, ready, unexpired prebuilds.', (p) => p.eligible);
    this.presetGauge(
      'prebuilds_preset_hard_limited',
      '1 when the preset stopped creating after too many failures.',
      (p) => (p.hardLimited ? 1 : 0),
    );
    this.presetGauge(
      'prebuilds_preset_validation_failed',
      "1 when the preset's parameters do not satisfy its template version.",
      (p) => (p.validationFailed ? 1 : 0),
    );
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const service = this;
    new Gauge({
      name: 'prebuilds_claim_hit_ratio',
      help: "Claims served by a prebuild / (claims + misses) over the window, read from every replica's claim events at scrape time; absent when nobody asked.",
      labelNames: [...LABEL_NAMES, 'window'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [labels, demand] of await service.demandByLabels()) {
          const rates = hitRates(demand.claims, demand.misses);
          for (const window of DEMAND_WINDOWS) {
            const rate = rates[window];
            if (rate !== null) this.set({ ...labels, window }, rate);
          }
        }
      },
    });
  }

  /**
   * Where the hit-rate gauge reads the claim windows when scraped (a query, so that no reconcile cycle pays for a
   * metric nobody reads); until one is set, the gauge is empty.
   */
  useDemandSource(source: () => Promise<readonly DemandRow[]>): void {
    this.demandSource = source;
  }

  /** The claim windows summed per label set (a preset name on an old and the new version is one series). */
  private async demandByLabels(): Promise<
    [PresetMetricLabels, { claims: WindowCounts; misses: WindowCounts }][]
  > {
    const merged = new Map<string, [PresetMetricLabels, { claims: WindowCounts; misses: WindowCounts }]>();
    for (const row of await this.demandSource()) {
      const labels = this.labelsOf(row.presetId);
      const key = JSON.stringify([labels.organization, labels.template, labels.preset]);
      const seen = merged.get(key);
      merged.set(
        key,
        seen
          ? [
              labels,
              {
                claims: sumWindows(seen[1].claims, row.claims),
                misses: sumWindows(seen[1].misses, row.misses),
              },
            ]
          : [labels, { claims: row.claims, misses: row.misses }],
      );
    }
    return [...merged.values()];
  }

  /** A preset's target expression failed to evaluate in a cycle. */
  recordExpressionError(labels: PresetMetricLabels): void {
    this.expressionErrors.inc(labelsOf(labels));
  }

  /** Percentiles of claim latency over every preset, interpolated in the histogram's buckets like histogram_quantile. */
  async claimLatency(): Promise<ClaimLatency> {
    const { values } = await this.claimDuration.get();
    const buckets = new Map<number, number>();
    let count = 0;
    for (const v of values) {
      if (v.metricName === 'prebuilds_claim_duration_seconds_bucket') {
        // prom-client types the labels by the histogram's own names; `le` is the one it adds per bucket.
        const bound = (v.labels as Record<string, string | number | undefined>).le;
        const le = bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound);
        buckets.set(le, (buckets.get(le) ?? 0) + v.value);
      } else if (v.metricName === 'prebuilds_claim_duration_seconds_count') count += v.value;
    }
    const cumulative = [...buckets.entries()].sort(([a], [b]) => a - b);
    return {
      count,
      p50: histogramQuantile(0.5, cumulative),
      p90: histogramQuantile(0.9, cumulative),
      p99: histogramQuantile(0.99, cumulative),
    };
  }

  /**
   * Replaces every per-preset gauge with the snapshot's presets (a list, or a function that makes it, called at most
   * once per snapshot): series of presets that are gone (deleted template, superseded version) disappear instead of
   * reporting their last value forever. Presets that share labels (the same preset name on an old and the new
   * version) are summed, and their flags OR-ed, rather than overwriting each other.
   */
  recordSnapshot(presets: readonly PresetMetricsInput[] | (() => readonly PresetMetricsInput[])): void {
    this.source = typeof presets === 'function' ? presets : () => presets;
    this.series = null;
  }

  recordCycle(cycle: CycleMetricsInput): void {
    this.reconcileDuration.observe(cycle.durationSeconds);
    this.lastCycle.set(cycle.completedAt.getTime() / 1000);
    this.recordPaused(cycle.paused);
  }

  /** Also for the settings route, so that a pause shows before the next cycle. */
  recordPaused(paused: boolean): void {
    this.paused.set(paused ? 1 : 0);
  }

  recordCreated(labels: PresetMetricLabels, count = 1): void {
    if (count > 0) this.created.inc(labelsOf(labels), count);
  }

  recordFailed(labels: PresetMetricLabels, count = 1): void {
    if (count > 0) this.failed.inc(labelsOf(labels), count);
  }

  /** A failed provisioner job, by kind (DESIGN.md rule 6: only `build` feeds backoff and the hard limit). */
  recordJobFailure(kind: 'build' | 'provisioner_lost' | 'timeout' | 'canceled'): void {
    this.jobFailures.inc({ kind });
  }

  /** A cap clamped a preset in a cycle (once per preset and cap per cycle). */
  recordCapClamp(
    cap: 'maxInstancesPerPreset' | 'maxCreatesPerCycle' | 'maxInFlightCreates' | 'maxPrebuilds',
  ): void {
    this.capClamps.inc({ cap });
  }

  /** The cluster's reconciler freshness: seconds since any replica's last cycle, in database time. */
  recordLastCycleAge(seconds: number | null): void {
    if (seconds !== null) this.lastCycleAge.set(seconds);
  }

  /** Misses are counted but not timed: their duration says nothing about how fast a claim is. */
  recordClaim(presetId: string, claimed: boolean, durationSeconds: number): void {
    const labels = this.labelsOf(presetId);
    if (!claimed) {
      this.claimMisses.inc(labels);
      return;
    }
    this.claimed.inc(labels);
    this.claimDuration.observe(labels, durationSeconds);
  }

  /** A preset the last snapshot did not see (none yet, or created since) is labelled by its id alone. */
  labelsOf(presetId: string): PresetMetricLabels {
    return (
      this.currentSeries().labelsByPreset.get(presetId) ?? {
        organization: '',
        template: '',
        preset: presetId,
      }
    );
  }

  /** The Prometheus text exposition of every metric. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private counter(name: string, help: string): Counter<(typeof LABEL_NAMES)[number]> {
    return new Counter({ name, help, labelNames: LABEL_NAMES, registers: [this.registry] });
  }

  /** A per-preset gauge whose values prom-client asks for at each scrape (its `collect`), from the last snapshot. */
  private presetGauge(name: string, help: string, value: (preset: PresetMetricsInput) => number): void {
    // prom-client calls collect with the gauge as `this`; the service is reached through the closure.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const service = this;
    new Gauge({
      name,
      help,
      labelNames: LABEL_NAMES,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const preset of service.currentSeries().byLabels.values())
          this.set(labelsOf(preset), value(preset));
      },
    });
  }

  private currentSeries(): PresetSeries {
    this.series ??= toSeries(this.source());
    return this.series;
  }
}

interface PresetSeries {
  /** One entry per label set (presets sharing labels merged). */
  byLabels: Map<string, PresetMetricsInput>;
  labelsByPreset: Map<string, PresetMetricLabels>;
}

function toSeries(presets: readonly PresetMetricsInput[]): PresetSeries {
  const byLabels = new Map<string, PresetMetricsInput>();
  const labelsByPreset = new Map<string, PresetMetricLabels>();
  for (const preset of presets) {
    const labels = labelsOf(preset);
    labelsByPreset.set(preset.presetId, labels);
    const key = JSON.stringify([labels.organization, labels.template, labels.preset]);
    const seen = byLabels.get(key);
    byLabels.set(
      key,
      seen
        ? {
            ...seen,
            desired: seen.desired + preset.desired,
            running: seen.running + preset.running,
            eligible: seen.eligible + preset.eligible,
            hardLimited: seen.hardLimited || preset.hardLimited,
            validationFailed: seen.validationFailed || preset.validationFailed,
          }
        : preset,
    );
  }
  return { byLabels, labelsByPreset };
}

function sumWindows(a: WindowCounts, b: WindowCounts): WindowCounts {
  const sum = { ...NO_DEMAND };
  for (const w of DEMAND_WINDOWS) sum[w] = a[w] + b[w];
  return sum;
}

/** Only the label fields: prom-client rejects unknown label names, and inputs carry more fields. */
function labelsOf(input: PresetMetricLabels): PresetMetricLabels {
  return { organization: input.organization, template: input.template, preset: input.preset };
}
