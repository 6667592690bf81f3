import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Clock } from '../clock/clock.js';
import { type ClusterFreshness, PrebuildsSettingsRepository } from '../database/settings.repository.js';
import { ReconcileObserver } from '../reconciler/reconcile-observer.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import { withTimeout } from './with-timeout.js';

/**
 * The cluster's reconciler freshness, NOT part of the module's `/readyz` (DESIGN.md "Faults"): one stalled replica
 * must not take every replica out of its load balancer. A host may add it to a probe of its own (an alerting or
 * cluster-level check). Down when no replica has completed a reconcile cycle for three intervals, judged in database
 * time (`now()` − the last cycle, computed in SQL), so a replica's skewed clock neither hides nor fakes staleness.
 * Not judged while paused, where the loop is disabled in this process, nor in the first three intervals after start
 * (the first cycle may not have finished yet). Never throws: settings that cannot be read (the database is down, or
 * slower than `timeout`) are reported down. Also records the age as the `prebuilds_cluster_last_cycle_age_seconds`
 * gauge.
 */
@Injectable()
export class ReconcilerFreshnessIndicator {
  private readonly startedAt: number;

  constructor(
    private readonly health: HealthIndicatorService,
    private readonly settings: PrebuildsSettingsRepository,
    private readonly clock: Clock,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
    @Optional() private readonly observer?: ReconcileObserver,
  ) {
    // Only this process's own uptime is measured with its clock: no other replica's time is involved.
    this.startedAt = clock.now().getTime();
  }

  async check(key = 'reconciler', { timeout = 2000 }: { timeout?: number } = {}) {
    const session = this.health.check(key);
    if (!this.options.enabled) return session.up({ message: 'reconciler disabled in this process' });
    let freshness: ClusterFreshness;
    try {
      freshness = await withTimeout(this.settings.freshness(), timeout);
    } catch (error) {
      return session.down({ message: (error as Error).message });
    }
    this.observer?.recordClusterFreshness(freshness.ageMs === null ? null : freshness.ageMs / 1000);
    if (freshness.paused) return session.up({ message: 'reconciliation paused' });
    const limitMs = 3 * this.options.reconcileIntervalMs;
    const lastCycleAt = freshness.lastCycleAt?.toISOString() ?? null;
    const ageMs = freshness.ageMs === null ? null : Math.round(freshness.ageMs);
    if (ageMs !== null && ageMs < limitMs) return session.up({ lastCycleAt, ageMs });
    if (this.clock.now().getTime() - this.startedAt < limitMs) return session.up({ message: 'starting' });
    return session.down({ message: `no reconcile cycle completed in ${limitMs} ms`, lastCycleAt, ageMs });
  }
}
