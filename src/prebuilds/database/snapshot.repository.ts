import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ClusterTotals } from '../state/create-caps.js';
import type {
  BackoffRow,
  PrebuildScheduleRow,
  PresetRow,
  RunningCountRow,
  RunningPrebuildRow,
  SnapshotInput,
  Transition,
} from '../state/types.js';
import { DEMAND_WINDOWS, windowMinutes, type DemandRow, type DemandWindow } from '../state/demand.js';
import { GlobalSnapshot } from '../state/global-snapshot.js';
import { readsDemand } from '../state/target-expression.js';
import { activePresetSql, agentsReadySql, notExpiredSql, runningPrebuildSql } from './eligibility.sql.js';
import { atHardLimitSql } from './hard-limit.sql.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';
import { sessionSettingsSql, workMemSetting } from './snapshot-session.sql.js';

export interface SnapshotQuery {
  now: Date;
  /** Only this template's presets and prebuilds; null = all. */
  templateId: string | null;
  backoffLookbackMs: number;
  failureHardLimit: number;
  /**
   * Read the claim windows of DESIGN.md rule 12 even when no preset has a target expression (the status reports
   * hit rates); a cycle reads them only when some preset needs them.
   */
  withDemand?: boolean;
}

/**
 * The reads of one reconcile cycle, whatever the number of presets: four set-based statements, a fifth for the claim
 * windows (asked for, as the status does, or when a preset's target expression reads them), and one more when
 * a delete needs rows. All run on the caller's REPEATABLE READ transaction so that they see one MVCC snapshot. Each
 * takes an optional template filter ($1) so that a NOTIFY-triggered cycle reads only what it needs.
 */
@Injectable()
export class PrebuildsSnapshotRepository {
  constructor(private readonly ns: PrebuildsNamespace) {}

  async read(manager: EntityManager, query: SnapshotQuery): Promise<SnapshotInput> {
    // Sequential on purpose: one transaction is one connection, so parallel queries would only queue.
    const presets = await this.findPresetsWithPrebuilds(manager, query.templateId);
    const schedules = await this.findActiveSchedules(manager, query.templateId);
    const prebuilds = await this.summarizePrebuilds(manager, query.templateId, query.now);
    const failures = await this.findFailureStates(manager, query);
    const wantsDemand =
      query.withDemand === true ||
      presets.some((p) => p.desiredInstancesExpression && readsDemand(p.desiredInstancesExpression));
    const demand = wantsDemand ? await this.countDemand(manager, query.templateId, query.now) : [];
    return {
      presets,
      schedules,
      ...prebuilds,
      backoffs: failures.backoffs,
      hardLimitedPresetIds: failures.hardLimitedPresetIds,
      demand,
    };
  }

  /**
   * The snapshot as the engine sees it, with the running rows of every preset whose actions need them (a delete
   * names workspaces) read in a second statement, on the same transaction and so the same MVCC snapshot. A cycle
   * that deletes nothing reads counts only.
   */
  async readSnapshot(
    manager: EntityManager,
    query: SnapshotQuery,
    caps: { maxInstancesPerPreset?: number } = {},
  ): Promise<GlobalSnapshot> {
    const counted = new GlobalSnapshot(await this.read(manager, query), caps);
    const needRows = counted.presetsNeedingRows(query.now);
    if (needRows.length === 0) return counted;
    const rows = await this.findRunningPrebuilds(manager, query.templateId, needRows);
    return counted.withRunningRows(needRows, rows);
  }

  /**
   * The session settings of a snapshot read, for the rest of the caller's transaction (SET LOCAL): JIT off, since the
   * aggregates over 100k rows pass PostgreSQL's JIT cost threshold and compiling them cost more than running them
   * (bench: ~1 s of a 1.1 s cycle at 10k presets); and `work_mem` raised to `workMemMb` (0: the server's), since at
   * 1M prebuilds the summary's hash joins spilled to 32 batches on the default 4 MB and its aggregate fell back to
   * sorting a million rows. The reconcile cycle sets the same in its lock statement (sessionSettingsSql).
   */
  async applySessionSettings(manager: EntityManager, workMemMb: number): Promise<void> {
    await manager.query(`SELECT ${sessionSettingsSql('$1')}`, [workMemSetting(workMemMb)]);
  }

  /**
   * Presets with a prebuild configuration: every one on an active version, and those on other versions or of
   * deleted/deprecated templates only while a prebuild of theirs is still alive (idx_workspaces_prebuilds), so that
   * old versions do not grow the snapshot forever. Also lists presets whose prebuilds failed or stopped (the status
   * endpoint reports them), since those are live workspaces too.
   */
  findPresetsWithPrebuilds(manager: EntityManager, templateId: string | null): Promise<PresetRow[]> {
    const s = this.ns.schema;
    const active = activePresetSql('p', 't');
    // Two branches rather than one OR: with the OR, PostgreSQL hashed every live prebuild's preset id for the
    // EXISTS (1M rows at 100k presets, ~360 ms); apart, each inactive preset probes idx_workspaces_prebuilds once
    // (the LATERAL … LIMIT 1 keeps the planner from hashing the whole table again for a semi-join).
    const branch = (where: string, alive = '') => `
      SELECT p.id AS "presetId", p.name AS "presetName", t.id AS "templateId", t.name AS "templateName",
             p.template_version_id AS "templateVersionId", t.organization_id AS "organizationId",
             (t.active_version_id = p.template_version_id) AS "usingActiveVersion",
             t.deleted AS "templateDeleted", (t.deprecated <> '') AS "templateDeprecated",
             p.desired_instances AS "desiredInstances", p.ttl_seconds AS "ttlSeconds",
             p.last_invalidated_at AS "lastInvalidatedAt", p.scheduling_timezone AS "schedulingTimezone",
             p.prebuild_status AS "prebuildStatus",
             p.desired_instances_expression AS "desiredInstancesExpression"
        FROM ${s}.template_version_presets p
        JOIN ${s}.template_versions v ON v.id = p.template_version_id
        JOIN ${s}.templates t ON t.id = v.template_id
        ${alive}
       WHERE p.desired_instances IS NOT NULL AND ($1::text IS NULL OR t.id = $1) AND ${where}`;
    return manager.query(
      `${branch(active)}
       UNION ALL
       ${branch(
         `${active} IS NOT TRUE`,
         `JOIN LATERAL (SELECT 1 FROM ${s}.workspaces w
                         WHERE w.preset_id = p.id AND w.owner_id = ${this.ns.owner} AND NOT w.deleted
                         LIMIT 1) alive ON true`,
       )}
       ORDER BY "templateName", "presetName", "presetId"`,
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
   * Running prebuilds, row by row: live workspaces of the prebuilds user whose latest build is a succeeded start,
   * optionally only of some presets. Served by idx_workspaces_prebuilds.
   */
  findRunningPrebuilds(
    manager: EntityManager,
    templateId: string | null,
    presetIds: readonly string[] | null = null,
  ): Promise<RunningPrebuildRow[]> {
    return manager.query(
      `SELECT w.id AS "workspaceId", w.preset_id AS "presetId", w.template_id AS "templateId",
              b.template_version_id AS "templateVersionId", ${agentsReadySql('j')} AS ready,
              w.created_at AS "createdAt"
         FROM ${this.ns.schema}.workspaces w
         JOIN ${this.ns.schema}.workspace_builds b ON b.id = w.latest_build_id
         JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = b.job_id
        WHERE ${runningPrebuildSql(this.ns, { workspace: 'w', build: 'b', job: 'j' })}
          AND ($1::text IS NULL OR w.template_id = $1)
          AND ($2::uuid[] IS NULL OR w.preset_id = ANY($2::uuid[]))`,
      [templateId, presetIds],
    );
  }

  /**
   * Every live prebuild in one pass, summed up per preset: running ones as counts (ready, and expired at `now`, by
   * eligibility.sql.ts), prebuilds in progress by transition on active versions, and pending, unacquired first
   * starts of inactive presets (to cancel). At 10k presets / 100k prebuilds this moves ~1 MB where rows moved
   * ~19 MB. A preset with a TTL still gets its rows (readSnapshot): its expiry moves with `now`.
   */
  async summarizePrebuilds(
    manager: EntityManager,
    templateId: string | null,
    now: Date,
  ): Promise<Pick<SnapshotInput, 'running' | 'runningCounts' | 'inProgress' | 'pendingNonActive'>> {
    const running = runningPrebuildSql(this.ns, { workspace: 'w', build: 'b', job: 'j' });
    const ready = `(${running} AND ${agentsReadySql('j')})`;
    const fresh = notExpiredSql('w', 'p', '$2');
    const inFlight = `j.job_status IN ('pending', 'running') AND b.template_version_id = t.active_version_id`;
    // One row per preset (hash aggregate, no sort): only the few columns the counts need travel through it.
    const rows: PrebuildSummaryRow[] = await manager.query(
      `SELECT w.preset_id AS "presetId", min(w.template_id) AS "templateId",
              min(t.active_version_id::text) AS "activeVersionId",
              count(*) FILTER (WHERE ${running})::int AS running,
              count(*) FILTER (WHERE ${ready} AND ${fresh})::int AS ready,
              count(*) FILTER (WHERE ${running} AND NOT ${fresh})::int AS expired,
              count(*) FILTER (WHERE ${inFlight} AND b.transition = 'start')::int AS starting,
              count(*) FILTER (WHERE ${inFlight} AND b.transition = 'stop')::int AS stopping,
              count(*) FILTER (WHERE ${inFlight} AND b.transition = 'delete')::int AS deleting,
              count(*) FILTER (WHERE b.build_number = 1 AND b.transition = 'start' AND j.job_status = 'pending'
                                 AND j.worker_id IS NULL
                                 AND (b.template_version_id <> t.active_version_id OR t.deleted
                                      OR t.deprecated <> ''))::int AS "pendingNonActive"
         FROM ${this.ns.schema}.workspaces w
         JOIN ${this.ns.schema}.workspace_builds b ON b.id = w.latest_build_id
         JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = b.job_id
         JOIN ${this.ns.schema}.templates t ON t.id = w.template_id
         JOIN ${this.ns.schema}.template_version_presets p ON p.id = w.preset_id
        WHERE w.owner_id = ${this.ns.owner} AND NOT w.deleted
          AND ($1::text IS NULL OR w.template_id = $1)
        GROUP BY w.preset_id`,
      [templateId, now],
    );
    return splitSummary(rows);
  }

  /**
   * Claims served by a prebuild and misses per preset in each window of DESIGN.md rule 12 ending at `now` (the
   * cycle's clock, which also stamped the events), in one pass over the last 120 minutes of events
   * (idx_prebuild_events_created). Presets nobody asked for in that time have no row.
   */
  async countDemand(manager: EntityManager, templateId: string | null, now: Date): Promise<DemandRow[]> {
    const s = this.ns.schema;
    const since = (w: DemandWindow) =>
      `e.created_at > $2::timestamptz - interval '${windowMinutes(w)} minutes'`;
    const columns = DEMAND_WINDOWS.flatMap((w) => [
      `count(*) FILTER (WHERE e.event_type = 'claim_succeeded' AND ${since(w)})::int AS "c${w}"`,
      `count(*) FILTER (WHERE e.event_type = 'claim_missed' AND ${since(w)})::int AS "m${w}"`,
    ]);
    const rows: DemandSqlRow[] = await manager.query(
      `SELECT e.preset_id AS "presetId", ${columns.join(', ')}
         FROM ${s}.prebuild_events e
        WHERE ${since('120m')} AND e.created_at <= $2::timestamptz
          AND ($1::text IS NULL OR e.preset_id IN (
                SELECT p.id FROM ${s}.template_version_presets p
                  JOIN ${s}.template_versions v ON v.id = p.template_version_id
                 WHERE v.template_id = $1))
        GROUP BY e.preset_id`,
      [templateId, now],
    );
    // Literal keys: building the objects with computed keys cost ~2 µs a preset (10k rows per cycle at scale).
    return rows.map((row) => ({
      presetId: row.presetId,
      claims: { '5m': row.c5m, '10m': row.c10m, '30m': row.c30m, '60m': row.c60m, '120m': row.c120m },
      misses: { '5m': row.m5m, '10m': row.m10m, '30m': row.m30m, '60m': row.m60m, '120m': row.m120m },
    }));
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

/** countDemand's row: claims (`c…`) and misses (`m…`) per window, as ::int columns (numbers from the driver). */
type DemandSqlRow = { presetId: string } & Record<`${'c' | 'm'}${DemandWindow}`, number>;

/** One preset's prebuilds as summarizePrebuilds reads them. */
interface PrebuildSummaryRow {
  presetId: string;
  templateId: string;
  activeVersionId: string | null;
  running: number;
  ready: number;
  expired: number;
  starting: number;
  stopping: number;
  deleting: number;
  pendingNonActive: number;
}

/** The summary in the engine's input shapes. */
function splitSummary(
  rows: PrebuildSummaryRow[],
): Pick<SnapshotInput, 'running' | 'runningCounts' | 'inProgress' | 'pendingNonActive'> {
  const runningCounts: RunningCountRow[] = [];
  const inProgress: SnapshotInput['inProgress'] = [];
  const pendingNonActive: SnapshotInput['pendingNonActive'] = [];
  for (const row of rows) {
    if (row.running > 0) {
      runningCounts.push({
        presetId: row.presetId,
        running: row.running,
        ready: row.ready,
        expired: row.expired,
      });
    }
    const byTransition: [Transition, number][] = [
      ['start', row.starting],
      ['stop', row.stopping],
      ['delete', row.deleting],
    ];
    for (const [transition, count] of byTransition) {
      if (count > 0 && row.activeVersionId !== null) {
        inProgress.push({
          presetId: row.presetId,
          templateId: row.templateId,
          templateVersionId: row.activeVersionId,
          transition,
          count,
        });
      }
    }
    if (row.pendingNonActive > 0)
      pendingNonActive.push({ presetId: row.presetId, count: row.pendingNonActive });
  }
  return { running: [], runningCounts, inProgress, pendingNonActive };
}
