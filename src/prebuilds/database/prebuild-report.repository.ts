import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { agentsReadySql } from './eligibility.sql.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

export interface FailedStoppedCount {
  presetId: string;
  failed: number;
  stopped: number;
}

export interface PresetPrebuildRow {
  id: string;
  name: string;
  createdAt: Date;
  transition: 'start' | 'stop' | 'delete';
  jobStatus: string;
  ready: boolean;
}

/**
 * Reads for operators: what the reconciler leaves alone (failed, stopped) and a preset's prebuilds one by one. Every
 * read runs in the status's REPEATABLE READ transaction (PrebuildsStatusService), so it takes the caller's manager and
 * needs no DataSource of its own (database/README.md).
 */
@Injectable()
export class PrebuildReportRepository {
  constructor(private readonly ns: PrebuildsNamespace) {}

  /**
   * Live prebuilds whose latest build is a failed start or a succeeded stop, by preset: the loop never deletes
   * them and never counts them as supply, so an operator has to see them. Served by idx_workspaces_prebuilds.
   */
  countFailedAndStopped(manager: EntityManager, templateId: string | null): Promise<FailedStoppedCount[]> {
    return manager.query(
      `SELECT w.preset_id AS "presetId",
              count(*) FILTER (WHERE w.latest_transition = 'start' AND w.latest_job_status = 'failed')::int AS failed,
              count(*) FILTER (WHERE w.latest_transition = 'stop' AND w.latest_job_status = 'succeeded')::int AS stopped
         FROM ${this.ns.schema}.workspaces w
        WHERE w.owner_id = ${this.ns.owner} AND NOT w.deleted AND w.preset_id IS NOT NULL
          AND ((w.latest_transition = 'start' AND w.latest_job_status = 'failed')
               OR (w.latest_transition = 'stop' AND w.latest_job_status = 'succeeded'))
          AND ($1::text IS NULL OR w.template_id = $1)
        GROUP BY w.preset_id`,
      [templateId],
    );
  }

  /** Every live prebuild of a preset with its latest build, oldest first. */
  listPresetPrebuilds(manager: EntityManager, presetId: string): Promise<PresetPrebuildRow[]> {
    return manager.query(
      `SELECT w.id, w.name, w.created_at AS "createdAt", w.latest_transition AS transition,
              w.latest_job_status AS "jobStatus", ${agentsReadySql('w')} AS ready
         FROM ${this.ns.schema}.workspaces w
        WHERE w.preset_id = $1 AND w.owner_id = ${this.ns.owner} AND NOT w.deleted
        ORDER BY w.created_at, w.id`,
      [presetId],
    );
  }

  /** The expiry inputs of one preset, or null when it does not exist. */
  async findPresetExpiry(
    manager: EntityManager,
    presetId: string,
  ): Promise<{ ttlSeconds: number | null; lastInvalidatedAt: Date | null; templateId: string } | null> {
    const [row] = await manager.query(
      `SELECT p.ttl_seconds AS "ttlSeconds", p.last_invalidated_at AS "lastInvalidatedAt", v.template_id AS "templateId"
         FROM ${this.ns.schema}.template_version_presets p JOIN ${this.ns.schema}.template_versions v ON v.id = p.template_version_id
        WHERE p.id = $1`,
      [presetId],
    );
    return row ?? null;
  }
}
