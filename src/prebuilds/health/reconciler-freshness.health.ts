import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Clock } from '../clock/clock.js';
import { PrebuildsSettingsRepository } from '../database/settings.repository.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import { withTimeout } from './with-timeout.js';

/**
 * Down when no replica has completed a reconcile cycle for three intervals: the pools are no longer being kept.
 * Not judged while paused (nobody should be reconciling) or where the loop is disabled in this process, nor in the
 * first three intervals after start (the first cycle may not have finished yet). Never throws: settings that cannot be
 * read (the database is down, or slower than `timeout`) are reported down.
 */
@Injectable()
export class ReconcilerFreshnessIndicator {
  private readonly startedAt: Date;

  constructor(
    private readonly health: HealthIndicatorService,
    private readonly settings: PrebuildsSettingsRepository,
    private readonly clock: Clock,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {
    this.startedAt = clock.now();
  }

  async check(key = 'reconciler', { timeout = 2000 }: { timeout?: number } = {}) {
    const session = this.health.check(key);
    if (!this.options.enabled) return session.up({ message: 'reconciler disabled in this process' });
    let settings: Awaited<ReturnType<PrebuildsSettingsRepository['get']>>;
    try {
      settings = await withTimeout(this.settings.get(), timeout);
    } catch (error) {
      return session.down({ message: (error as Error).message });
    }
    if (settings.reconciliationPaused) return session.up({ message: 'reconciliation paused' });
    const now = this.clock.now().getTime();
    const limitMs = 3 * this.options.reconcileIntervalMs;
    const last = settings.lastCycleCompletedAt?.getTime() ?? null;
    if (last !== null && now - last < limitMs)
      return session.up({ lastCycleAt: new Date(last).toISOString() });
    if (now - this.startedAt.getTime() < limitMs) return session.up({ message: 'starting' });
    return session.down({
      message: `no reconcile cycle completed in ${limitMs} ms`,
      lastCycleAt: last === null ? null : new Date(last).toISOString(),
    });
  }
}
