import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PrebuildsDatabaseHealthIndicator } from './database.health.js';
import { MigrationsHealthIndicator } from './migrations.health.js';
import { ReconcilerFreshnessIndicator } from './reconciler-freshness.health.js';

/** The module's terminus indicators; each reports down rather than throwing, so a probe answers 503, never 500. */
export const PREBUILDS_HEALTH_INDICATORS = [
  PrebuildsDatabaseHealthIndicator,
  MigrationsHealthIndicator,
  ReconcilerFreshnessIndicator,
];

/** The terminus module the indicators (and PrebuildsHealthModule's probes) use; quiet, as the probes' callers log. */
export const PREBUILDS_TERMINUS_MODULE = TerminusModule.forRoot({ logger: false });

/**
 * The module's health indicators and no routes, for a host that adds them to its own terminus probes:
 *
 * ```ts
 * readiness() {
 *   return this.health.check([
 *     () => this.prebuildsDatabase.pingCheck('prebuilds-database'),
 *     () => this.prebuildsMigrations.check(),
 *     () => this.prebuildsReconciler.check(),
 *   ]);
 * }
 * ```
 *
 * Import it next to PrebuildsModule (the indicators use its DataSource, options, clock and settings, which
 * PrebuildsModule exports globally); the host's own HealthCheckService comes from its own `TerminusModule`.
 */
@Module({
  imports: [PREBUILDS_TERMINUS_MODULE],
  providers: PREBUILDS_HEALTH_INDICATORS,
  exports: PREBUILDS_HEALTH_INDICATORS,
})
export class PrebuildsHealthIndicatorsModule {}
