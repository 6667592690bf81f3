import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PrebuildsLock } from './advisory-locks.js';
import { eligiblePrebuildSql } from './eligibility.sql.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

export interface ClaimedPrebuild {
  workspaceId: string;
  templateId: string;
}

export interface PresetOfTemplate {
  presetId: string;
  templateVersionId: string;
  activeVersionId: string | null;
  parameters: Record<string, string>;
}

/** The claim: handing an eligible prebuild to a user, and finding which preset a request means. */
@Injectable()
export class ClaimRepository {
  constructor(private readonly ns: PrebuildsNamespace) {}

  /**
   * Gives the oldest eligible prebuild of a preset (eligibility.sql.ts: the engine's `eligible`) to a user. SKIP LOCKED
   * makes concurrent claimers take different rows instead of waiting for (and then losing) the same one; the row
   * lock is held until the caller's transaction ends. Served by idx_workspaces_prebuilds (preset_id, created_at, id).
   */
  async claimOldestEligible(
    manager: EntityManager,
    claim: { presetId: string; userId: string; name: string; now: Date },
  ): Promise<ClaimedPrebuild | null> {
    const [rows] = await manager.query(
      `UPDATE ${this.ns.schema}.workspaces w SET owner_id = $2, name = $3, updated_at = $4, last_used_at = $4
        WHERE w.id = (
          SELECT c.id
            FROM ${this.ns.schema}.workspaces c
            JOIN ${this.ns.schema}.workspace_builds b ON b.id = c.latest_build_id
            JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = b.job_id
            JOIN ${this.ns.schema}.templates t ON t.id = c.template_id
            JOIN ${this.ns.schema}.template_version_presets p ON p.id = c.preset_id
           WHERE c.preset_id = $1
             AND ${eligiblePrebuildSql(this.ns, { workspace: 'c', build: 'b', job: 'j', preset: 'p', template: 't', now: '$4' })}
           ORDER BY c.created_at, c.id
           LIMIT 1
             FOR UPDATE OF c SKIP LOCKED)
        RETURNING w.id AS "workspaceId", w.template_id AS "templateId"`,
      [claim.presetId, claim.userId, claim.name, claim.now],
    );
    return rows[0] ?? null;
  }

  /** A preset with its version and the template's active version; null when it is not one of the template's. */
  async findPresetOfTemplate(
    manager: EntityManager,
    templateId: string,
    presetId: string,
  ): Promise<PresetOfTemplate | null> {
    const [row] = await manager.query(
      `SELECT p.id AS "presetId", p.template_version_id AS "templateVersionId", t.active_version_id AS "activeVersionId",
              COALESCE((SELECT json_object_agg(pp.name, pp.value) FROM ${this.ns.schema}.template_version_preset_parameters pp
                         WHERE pp.preset_id = p.id), '{}') AS parameters
         FROM ${this.ns.schema}.template_version_presets p
         JOIN ${this.ns.schema}.template_versions v ON v.id = p.template_version_id
         JOIN ${this.ns.schema}.templates t ON t.id = v.template_id
        WHERE p.id = $2 AND t.id = $1`,
      [templateId, presetId],
    );
    return row ?? null;
  }

  /**
   * The preset of a version whose parameters all appear, with equal values, in the request. Several match → the one
   * with the most parameters (then by name); a preset without parameters matches anything but loses to any that has.
   */
  async findMatchingPreset(
    manager: EntityManager,
    versionId: string,
    parameters: Record<string, string>,
  ): Promise<PresetOfTemplate | null> {
    const [row] = await manager.query(
      `SELECT p.id AS "presetId", p.template_version_id AS "templateVersionId", p.template_version_id AS "activeVersionId",
              COALESCE(params.values, '{}') AS parameters
         FROM ${this.ns.schema}.template_version_presets p
         LEFT JOIN LATERAL (
           SELECT json_object_agg(pp.name, pp.value) AS values, count(*) AS n,
                  bool_and(($2::jsonb ->> pp.name) IS NOT DISTINCT FROM pp.value) AS all_equal
             FROM ${this.ns.schema}.template_version_preset_parameters pp WHERE pp.preset_id = p.id
         ) params ON true
        WHERE p.template_version_id = $1 AND COALESCE(params.all_equal, true)
        ORDER BY COALESCE(params.n, 0) DESC, p.name, p.id
        LIMIT 1`,
      [versionId, JSON.stringify(parameters)],
    );
    return row ?? null;
  }

  /**
   * Takes the owner's quota lock (transaction-scoped, see PrebuildsLock.WorkspaceQuota) and counts the owner's live
   * workspaces (not deleted, whatever their state), so that concurrent creates of one owner count one after another.
   */
  async lockOwnerAndCountLive(manager: EntityManager, ownerId: string): Promise<number> {
    await manager.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [
      this.ns.lockNamespace ^ PrebuildsLock.WorkspaceQuota,
      ownerId,
    ]);
    const [row] = await manager.query(
      `SELECT count(*)::int AS n FROM ${this.ns.schema}.workspaces WHERE owner_id = $1 AND NOT deleted`,
      [ownerId],
    );
    return row.n as number;
  }
}
