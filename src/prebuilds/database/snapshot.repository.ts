import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ClusterTotals } from '../state/create-caps.js';
import type {
  BackoffRow,
  InProgressRow,
  PendingNonActiveRow,
  PrebuildScheduleRow,
  PresetRow,
  RunningPrebuildRow,
  SnapshotInput,
} from '../state/types.js';
import { agentsReadySql, runningPrebuildSql } from './eligibility.sql.js';
import { atHardLimitSql } from './hard-limit.sql.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

export interface SnapshotQuery {
  now: Date;
  /** Only this template's presets and prebuilds; null = all. */
  templateId: string | null;
  backoffLookbackMs: number;
  failureHardLimit: number;
}

/**
 * The reads of one reconcile cycle: six set-based statements, whatever the number of presets, all run on the
 * caller's REPEATABLE READ transaction so that they see one MVCC snapshot. Each takes an optional template filter
 * ($1) so that a NOTIFY-triggered cycle reads only what it needs.
 */
@Injectable()
export class PrebuildsSnapshotRepository {
  constructor(private readonly ns: PrebuildsNamespace) {}

  async read(manager: EntityManager, query: SnapshotQuery): Promise<SnapshotInput> {
    // Sequential on purpose: one transaction is one connection, so parallel queries would only queue.
    const presets = await this.findPresetsWithPrebuilds(manager, query.templateId);
    const schedules = await this.findActiveSchedules(manager, query.templateId);
    const running = await this.findRunningPrebuilds(manager, query.templateId);
    const inProgress = await this.countInProgress(manager, query.templateId);
    const pendingNonActive = await this.countPendingNonActive(manager, query.templateId);
    const failures = await this.findFailureStates(manager, query);
    return {
      presets,
      schedules,
      running,
      inProgress,
      pendingNonActive,
      backoffs: failures.backoffs,
      hardLimitedPresetIds: failures.hardLimitedPresetIds,
    };
  }

  /**
   * Presets with a prebuild configuration: every one on an active version, and those on other versions or of
   * deleted/deprecated templates only while a prebuild of theirs is still alive (idx_workspaces_prebuilds), so that
   * old versions do not grow the snapshot forever. Also lists presets whose prebuilds failed or stopped (the status
   * endpoint reports them), since those are live workspaces too.
   */
  findPresetsWithPrebuilds(manager: EntityManager, templateId: string | null): Promise<PresetRow[]> {
    return manager.query(
      `SELECT p.id AS "presetId", p.name AS "presetName", t.id AS "templateId", t.name AS "templateName",
              p.template_version_id AS "templateVersionId", t.organization_id AS "organizationId",
              (t.active_version_id = p.template_version_id) AS "usingActiveVersion",
              t.deleted AS "templateDeleted", (t.deprecated <> '') AS "templateDeprecated",
              p.desired_instances AS "desiredInstances", p.ttl_seconds AS "ttlSeconds",
              p.last_invalidated_at AS "lastInvalidatedAt", p.scheduling_timezone AS "schedulingTimezone",
              p.prebuild_status AS "prebuildStatus"
         FROM ${this.ns.schema}.template_version_presets p
         JOIN ${this.ns.schema}.template_versions v ON v.id = p.template_version_id
         JOIN ${this.ns.schema}.templates t ON t.id = v.template_id
        WHERE p.desired_instances IS NOT NULL
          AND ($1::text IS NULL OR t.id = $1)
          AND ((t.active_version_id = p.template_version_id AND NOT t.deleted AND t.deprecated = '')
               OR EXISTS (SELECT 1 FROM ${this.ns.schema}.workspaces w
                           WHERE w.preset_id = p.id AND w.owner_id = ${this.ns.owner} AND NOT w.deleted))
        ORDER BY t.name, p.name, p.id`,
      [templateId],
    );
  }

  /** Schedules of active presets, in each preset's declared order (the first match wins). */
  findActiveSchedules(manager: EntityManager, templateId: string | null): Promise<PrebuildScheduleRow[]> {
    return manager.query(
      `SELECT s.preset_id AS "presetId", s.cron_expression AS "cronExpression",
              s.desired_instances AS "desiredInstances"
         FROM ${this.ns.schema}.prebuild_schedules s
         JOIN ${this.ns.schema}.template_version_presets p ON p.id = s.preset_id
         JOIN ${this.ns.schema}.template_versions v ON v.id = p.template_version_id
         JOIN ${this.ns.schema}.templates t ON t.id = v.template_id AND t.active_version_id = v.id
        WHERE NOT t.deleted AND t.deprecated = '' AND p.desired_instances IS NOT NULL
          AND ($1::text IS NULL OR t.id = $1)
        ORDER BY s.preset_id, s.ordinal`,
      [templateId],
    );
  }

  /**
   * Running prebuilds: live workspaces of the prebuilds user whose latest build is a succeeded start. Ready means
   * the build has agents and all of them are ready (idx_agents_job); EXISTS/NOT EXISTS plans as two cheap semi/anti
   * joins where a per-row aggregate did 100k scans at 10k presets. Served by idx_workspaces_prebuilds.
   */
  findRunningPrebuilds(manager: EntityManager, templateId: string | null): Promise<RunningPrebuildRow[]> {
    return manager.query(
      `SELECT w.id AS "workspaceId", w.preset_id AS "presetId", w.template_id AS "templateId",
              b.template_version_id AS "templateVersionId",
              ${agentsReadySql(this.ns, 'b')} AS ready,
              w.created_at AS "createdAt"
         FROM ${this.ns.schema}.workspaces w
         JOIN ${this.ns.schema}.workspace_builds b ON b.id = w.latest_build_id
         JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = b.job_id
        WHERE ${runningPrebuildSql(this.ns, { workspace: 'w', build: 'b', job: 'j' })}
          AND ($1::text IS NULL OR w.template_id = $1)`,
      [templateId],
    );
  }

  /**
   * Prebuilds whose latest build is pending or running, by preset and transition, on active versions only (an
   * inactive preset never creates, so its in-flight builds change no decision).
   */
  countInProgress(manager: EntityManager, templateId: string | null): Promise<InProgressRow[]> {
    return manager.query(
      `SELECT w.preset_id AS "presetId", w.template_id AS "templateId",
              b.template_version_id AS "templateVersionId", b.transition, count(*)::int AS count
         FROM ${this.ns.schema}.workspaces w
         JOIN ${this.ns.schema}.workspace_builds b ON b.id = w.latest_build_id
         JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = b.job_id
         JOIN ${this.ns.schema}.templates t ON t.id = w.template_id AND t.active_version_id = b.template_version_id
        WHERE w.owner_id = ${this.ns.owner} AND NOT w.deleted AND w.preset_id IS NOT NULL
          AND j.job_status IN ('pending', 'running')
          AND ($1::text IS NULL OR w.template_id = $1)
        GROUP BY 1, 2, 3, 4`,
      [templateId],
    );
  }

  /**
   * First start builds of prebuilds of an inactive preset (a non-active version, or a deleted or deprecated template)
   * that no provisioner has picked up yet.
   */
  countPendingNonActive(manager: EntityManager, templateId: string | null): Promise<PendingNonActiveRow[]> {
    return manager.query(
      `SELECT b.preset_id AS "presetId", count(*)::int AS count
         FROM ${this.ns.schema}.workspaces w
         JOIN ${this.ns.schema}.workspace_builds b ON b.id = w.latest_build_id
         JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = b.job_id
         JOIN ${this.ns.schema}.templates t ON t.id = w.template_id
        WHERE w.owner_id = ${this.ns.owner} AND NOT w.deleted AND b.preset_id IS NOT NULL
          AND b.build_number = 1 AND b.transition = 'start'
          AND j.job_status = 'pending' AND j.worker_id IS NULL
          AND (b.template_version_id <> t.active_version_id OR t.deleted OR t.deprecated <> '')
          AND ($1::text IS NULL OR w.template_id = $1)
        GROUP BY b.preset_id`,
      [templateId],
    );
  }

  /**
   * Cluster-wide counts for the cluster caps (DESIGN.md rule 11), whatever template a cycle looks at: prebuild start
   * jobs pending or running, and live prebuilds (failed and stopped ones included: they hold capacity until an
   * operator removes them; those whose latest build is a delete are on their way out). One statement on
   * idx_workspaces_prebuilds, run only by cycles that want to create something.
   */
  async readClusterTotals(manager: EntityManager): Promise<ClusterTotals> {
    const [row] = await manager.query(
      `SELECT count(*) FILTER (WHERE b.transition = 'start' AND j.job_status IN ('pending', 'running'))::int
                AS "inFlightCreates",
              count(*) FILTER (WHERE b.transition <> 'delete')::int AS prebuilds
         FROM ${this.ns.schema}.workspaces w
         JOIN ${this.ns.schema}.workspace_builds b ON b.id = w.latest_build_id
         JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = b.job_id
        WHERE w.owner_id = ${this.ns.owner} AND NOT w.deleted`,
    );
    return { inFlightCreates: row?.inFlightCreates ?? 0, prebuilds: row?.prebuilds ?? 0 };
  }

  /**
   * Backoff and hard limit in one statement, for presets on active versions (only they create). Both look only at
   * prebuild start builds created after the preset's failure reset (idx_builds_preset_starts):
   *  - backoff: failed ones whose job completed inside the lookback window → count and last failure time;
   *  - hard limit: the last `limit` finished (succeeded or failed) ones all failed.
   */
  async findFailureStates(
    manager: EntityManager,
    query: SnapshotQuery,
  ): Promise<{ backoffs: BackoffRow[]; hardLimitedPresetIds: string[] }> {
    const lookbackSince = new Date(query.now.getTime() - query.backoffLookbackMs);
    const rows: { presetId: string; numFailed: number; lastFailedAt: Date | null; hardLimited: boolean }[] =
      await manager.query(
        `SELECT * FROM (
           SELECT p.id AS "presetId", COALESCE(f.num_failed, 0) AS "numFailed", f.last_failed_at AS "lastFailedAt",
                  COALESCE(${atHardLimitSql(this.ns, 'p', '$3::int')}, false) AS "hardLimited"
             -- Only presets with at least one failed prebuild start can back off or be at the limit; starting from
             -- those (idx_jobs_failed) instead of every active preset keeps a healthy cluster's cycle cheap.
             FROM (SELECT DISTINCT fb.preset_id
                     FROM ${this.ns.schema}.provisioner_jobs fj JOIN ${this.ns.schema}.workspace_builds fb ON fb.job_id = fj.id
                    WHERE fj.job_status = 'failed' AND COALESCE(fj.failure_kind, 'build') = 'build'
                      AND fb.transition = 'start'
                      AND fb.initiator_id = ${this.ns.owner}) failing
             JOIN ${this.ns.schema}.template_version_presets p ON p.id = failing.preset_id
             JOIN ${this.ns.schema}.template_versions v ON v.id = p.template_version_id
             JOIN ${this.ns.schema}.templates t ON t.id = v.template_id AND t.active_version_id = v.id
             LEFT JOIN LATERAL (
               SELECT count(*)::int AS num_failed, max(j.completed_at) AS last_failed_at
                 FROM ${this.ns.schema}.workspace_builds b JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = b.job_id
                WHERE b.preset_id = p.id AND b.transition = 'start' AND b.initiator_id = ${this.ns.owner}
                  AND b.created_at > COALESCE(p.failure_reset_at, '-infinity')
                  AND j.job_status = 'failed' AND COALESCE(j.failure_kind, 'build') = 'build'
                  AND j.completed_at >= $2
             ) f ON true
            WHERE p.desired_instances IS NOT NULL AND NOT t.deleted AND t.deprecated = ''
              AND ($1::text IS NULL OR t.id = $1)
         ) failures
         WHERE "numFailed" > 0 OR "hardLimited"`,
        [query.templateId, lookbackSince, query.failureHardLimit],
      );
    return {
      backoffs: rows
        .filter((row) => row.numFailed > 0 && row.lastFailedAt !== null)
        .map((row) => ({
          presetId: row.presetId,
          numFailed: row.numFailed,
          lastFailedAt: row.lastFailedAt as Date,
        })),
      hardLimitedPresetIds: rows.filter((row) => row.hardLimited).map((row) => row.presetId),
    };
  }
}
