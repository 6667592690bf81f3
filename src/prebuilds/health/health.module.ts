import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { MigrationsHealthIndicator } from './migrations.health.js';
import { ReconcilerFreshnessIndicator } from './reconciler-freshness.health.js';

/**
 * /healthz and /readyz. Import it next to PrebuildsModule (it uses the module's options, clock and settings, which
 * PrebuildsModule exports globally).
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [MigrationsHealthIndicator, ReconcilerFreshnessIndicator],
})
export class PrebuildsHealthModule {}
