import { Injectable } from '@nestjs/common';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import type { DataSource } from 'typeorm';
import type { PrebuildStatus } from '../state/types.js';
import { atHardLimitSql } from './hard-limit.sql.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

/** Writes to presets' prebuild state: status, failure reset, invalidation. */
@Injectable()
export class PresetRepository {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  /** Sets the status of presets that do not have it yet; returns the ids that changed (for logging once). */
  async setStatus(presetIds: string[], status: PrebuildStatus): Promise<string[]> {
    if (presetIds.length === 0) return [];
    const [rows] = await this.dataSource.query(
      `UPDATE ${this.ns.schema}.template_version_presets SET prebuild_status = $2
        WHERE id = ANY($1::uuid[]) AND prebuild_status <> $2
        RETURNING id`,
      [presetIds, status],
    );
    return rows.map((row: { id: string }) => row.id);
  }

  /**
   * Back to healthy, and failures of builds created up to now stop counting (for the hard limit and backoff alike).
   * A healthy preset keeps its reset time, so resuming it is a no-op; "healthy" means neither stored as limited nor
   * at the limit right now (the status endpoint computes the limit live, before any cycle stores it). Returns the preset's template id, or null for
   * an unknown preset.
   */
  async resume(presetId: string, now: Date, failureHardLimit: number): Promise<string | null> {
    const [rows] = await this.dataSource.query(
      `UPDATE ${this.ns.schema}.template_version_presets p
          SET prebuild_status = 'healthy',
              failure_reset_at = CASE WHEN p.prebuild_status <> 'healthy' OR ${atHardLimitSql(this.ns, 'p', '$3::int')}
                                      THEN $2 ELSE p.failure_reset_at END
         FROM ${this.ns.schema}.template_versions v
        WHERE p.id = $1 AND v.id = p.template_version_id
        RETURNING v.template_id AS "templateId"`,
      [presetId, now, failureHardLimit],
    );
    return rows[0]?.templateId ?? null;
  }

  /**
   * Expires every prebuild of the template's active version's presets. Returns the preset ids touched, or null when
   * the template does not exist (deleted templates count as not existing).
   */
  async invalidateActiveVersion(templateId: string, now: Date): Promise<string[] | null> {
    const [template] = await this.dataSource.query(
      `SELECT 1 FROM ${this.ns.schema}.templates WHERE id = $1 AND NOT deleted`,
      [templateId],
    );
    if (!template) return null;
    const [rows] = await this.dataSource.query(
      `UPDATE ${this.ns.schema}.template_version_presets p SET last_invalidated_at = $2
         FROM ${this.ns.schema}.templates t
        WHERE t.id = $1 AND p.template_version_id = t.active_version_id
        RETURNING p.id`,
      [templateId, now],
    );
    return rows.map((row: { id: string }) => row.id);
  }
}
