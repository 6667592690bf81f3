import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../clock/clock.js';
import { PrebuildsSnapshotRepository } from '../database/snapshot.repository.js';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import type { DemandRow } from '../state/demand.js';
import { PrebuildsMetricsService } from './prebuilds-metrics.service.js';

/**
 * Feeds the hit-rate gauge from the claim events of every replica, read when Prometheus scrapes (the cycle reads the
 * windows only for presets with a target expression). A failed read leaves the gauge empty for that scrape rather
 * than failing /metrics, which must keep answering while the database is away.
 */
@Injectable()
export class DemandMetricsSource implements OnModuleInit {
  private readonly logger = new PrebuildsLogger('PrebuildsMetrics');
  private failing = false;

  constructor(
    private readonly metrics: PrebuildsMetricsService,
    private readonly snapshots: PrebuildsSnapshotRepository,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.metrics.useDemandSource(() => this.read());
  }

  private async read(): Promise<readonly DemandRow[]> {
    try {
      const rows = await this.snapshots.countDemandAlone(null, this.clock.now());
      this.failing = false;
      return rows;
    } catch (error) {
      // Once per outage, not once per scrape.
      if (!this.failing)
        this.logger.warn({
          msg: 'claim windows unreadable; the hit-rate gauge is empty until they are',
          event: 'hit_rate_unavailable',
          error: (error as Error).message,
        });
      this.failing = true;
      return [];
    }
  }
}
