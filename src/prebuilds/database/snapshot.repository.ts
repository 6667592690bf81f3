import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
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
import { activePresetSql, agentsReadySql, freshSinceSql, runningPrebuildSql } from './eligibility.sql.js';
import { atHardLimitSql } from './hard-limit.sql.js';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
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
 * The reads of one reconcile cycle, whatever the number of presets: the catalog's version, the summary of every live
 * prebuild and the failure states; the preset list and schedules only when the catalog changed since this process
 * last read them (or when presets off their active version still have prebuilds); one more for the claim windows
 * (asked for, as the status does, or when a preset's target expression reads them), and one more when a delete needs
 * rows. All run on the caller's REPEATABLE READ transaction so that they see one MVCC snapshot. Each takes an
 * optional template filter ($1) so that a NOTIFY-triggered cycle reads only what it needs.
 */
@Injectable()
export class PrebuildsSnapshotRepository {
  /** The catalog as last read, with its version; shared by the cycles and the status reads of this process. */
  private catalog: CatalogCopy | null = null;

  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  async read(manager: EntityManager, query: SnapshotQuery): Promise<SnapshotInput> {
    // Sequential on purpose: one transaction is one connection, so parallel queries would only queue.
    const catalog = await this.readCatalog(manager);
    const summary = await this.summarizePrebuilds(manager, query.templateId, query.now);
    // Presets off their template's active version keep being listed while a prebuild of theirs lives; the cached
    // catalog holds the active ones only, so a snapshot that has such prebuilds lists every preset afresh.
    const presets = summary.inactiveWithPrebuilds
      ? await this.findPresetsWithPrebuilds(manager, query.templateId)
      : catalog.presetsOf(query.templateId);
    const schedules = catalog.schedulesOf(query.templateId);
    const failures = await this.findFailureStates(manager, query);
    const wantsDemand =
      query.withDemand === true ||
      presets.some((p) => p.desiredInstancesExpression && readsDemand(p.desiredInstancesExpression));
    const demand = wantsDemand ? await this.countDemand(manager, query.templateId, query.now) : [];
    return {
      presets,
      schedules,
      running: summary.running,
      runningCounts: summary.runningCounts,
      inProgress: summary.inProgress,
      pendingNonActive: summary.pendingNonActive,
      backoffs: failures.backoffs,
      hardLimitedPresetIds: failures.hardLimitedPresetIds,
      demand,
    };
  }

  /**
   * The active presets and their schedules, from this process's copy when the catalog's version in the caller's
   * snapshot is the one the copy was read at (migration 1765700000000-CatalogVersion), else read afresh on the same
   * transaction and kept. A steady cluster's cycle therefore reads one row for the whole catalog.
   */
  private async readCatalog(manager: EntityManager): Promise<CatalogCopy> {
    const [{ version }]: { version: string }[] = await manager.query(
      `SELECT version FROM ${this.ns.schema}.catalog_version`,
    );
    if (this.catalog?.version === version) return this.catalog;
    const presets = await this.findActivePresets(manager);
    const schedules = await this.findActiveSchedules(manager, null);
    this.catalog = new CatalogCopy(version, presets, schedules);
    return this.catalog;
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
    const active = activePresetSql('p', 't');
    // Two branches rather than one OR: with the OR, PostgreSQL hashed every live prebuild's preset id for the
    // EXISTS (1M rows at 100k presets, ~360 ms); apart, each inactive preset probes idx_workspaces_prebuilds once
    // (the LATERAL … LIMIT 1 keeps the planner from hashing the whole table again for a semi-join).
    return manager.query(
      `${this.presetsSql(active)}
       UNION ALL
       ${this.presetsSql(
         `${active} IS NOT TRUE`,
         `JOIN LATERAL (SELECT 1 FROM ${this.ns.schema}.workspaces w
                         WHERE w.preset_id = p.id AND w.owner_id = ${this.ns.owner} AND NOT w.deleted
                         LIMIT 1) alive ON true`,
       )}
       ORDER BY "templateName", "presetName", "presetId"`,
      [templateId],
    );
  }

  /** The presets on their template's active version (of templates neither deleted nor deprecated), in list order. */
  findActivePresets(manager: EntityManager): Promise<PresetRow[]> {
    return manager.query(
      `${this.presetsSql(activePresetSql('p', 't'))} ORDER BY "templateName", "presetName", "presetId"`,
      [null],
    );
  }

  /** The preset list's columns, for presets with a prebuild configuration that match `where` (and template $1). */
  private presetsSql(where: string, alive = ''): string {
    const s = this.ns.schema;
    return `
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
              w.latest_version_id AS "templateVersionId", ${agentsReadySql('w')} AS ready,
              w.created_at AS "createdAt"
         FROM ${this.ns.schema}.workspaces w
        WHERE ${runningPrebuildSql(this.ns, 'w')}
          AND ($1::text IS NULL OR w.template_id = $1)
          AND ($2::uuid[] IS NULL OR w.preset_id = ANY($2::uuid[]))`,
      [templateId, presetIds],
    );
  }

  /**
   * Every live prebuild in one pass, summed up per preset and build version: running ones as counts (ready, and expired at `now`, by
   * eligibility.sql.ts), prebuilds in progress by transition on active versions, and pending, unacquired first
   * starts of inactive presets (to cancel). At 10k presets / 100k prebuilds this moves ~1 MB where rows moved
   * ~19 MB. It reads the latest build's state from the workspace row (migration 1765600000000-LatestBuildState), not
   * from joins to every live prebuild's build and job. A preset with a TTL still gets its rows (readSnapshot): its
   * expiry moves with `now`.
   */
  async summarizePrebuilds(
    manager: EntityManager,
    templateId: string | null,
    now: Date,
  ): Promise<PrebuildSummary> {
    const s = this.ns.schema;
    const running = runningPrebuildSql(this.ns, 'w');
    // Rule 3 as notExpiredSql states it, with the threshold looked up only for presets that have a TTL or an
    // invalidation (a small hash, usually empty): every other preset's prebuilds are fresh.
    const fresh = '(e.fresh_since IS NULL OR w.created_at >= e.fresh_since)';
    const inFlight = `w.latest_job_status IN ('pending', 'running')`;
    const active = activePresetSql('p', 't');
    const inFlightCount = 'a.starting + a.stopping + a.deleting';
    const onActive = (count: string) =>
      `(CASE WHEN a.version = t.active_version_id THEN a.${count} ELSE 0 END)::int`;
    // Two steps: the live prebuilds counted per preset and build version from the workspace rows alone (no join but
    // the tiny one above), then those few rows per preset joined to their preset and template, where the version
    // decides. Joining every prebuild to its preset and template first cost a third more at 1k and 10k presets. The
    // outer step does not group again: a preset's prebuilds nearly always share one version, so regrouping by preset
    // built a second hash of every preset (at 100k presets a quarter of the statement, and growing faster than the
    // presets); splitSummary's consumers add up the rare second row of a preset instead.
    const rows: PrebuildSummaryRow[] = await manager.query(
      `SELECT a.preset_id AS "presetId",
              -- Only rows with builds in flight use them (inProgress); leaving them out of the rest saved a tenth
              -- of the statement's transfer at 100k presets.
              CASE WHEN ${inFlightCount} > 0 THEN t.id END AS "templateId",
              CASE WHEN ${inFlightCount} > 0 THEN t.active_version_id::text END AS "activeVersionId",
              a.running::int AS running, a.ready::int AS ready, a.expired::int AS expired,
              ${onActive('starting')} AS starting, ${onActive('stopping')} AS stopping,
              ${onActive('deleting')} AS deleting,
              (CASE WHEN a.version <> t.active_version_id OR t.deleted OR t.deprecated <> ''
                    THEN a.first_pending ELSE 0 END)::int AS "pendingNonActive",
              -- findPresetsWithPrebuilds' second branch: a configured preset off its active version.
              (p.desired_instances IS NOT NULL AND ${active} IS NOT TRUE) AS "inactiveWithPrebuilds"
         FROM (SELECT w.preset_id, w.latest_version_id AS version,
                      count(*) FILTER (WHERE ${running}) AS running,
                      count(*) FILTER (WHERE ${running} AND ${agentsReadySql('w')} AND ${fresh}) AS ready,
                      count(*) FILTER (WHERE ${running} AND NOT ${fresh}) AS expired,
                      count(*) FILTER (WHERE ${inFlight} AND w.latest_transition = 'start') AS starting,
                      count(*) FILTER (WHERE ${inFlight} AND w.latest_transition = 'stop') AS stopping,
                      count(*) FILTER (WHERE ${inFlight} AND w.latest_transition = 'delete') AS deleting,
                      -- A pending job has no worker: acquiring sets both, and every release clears both.
                      count(*) FILTER (WHERE w.latest_build_number = 1 AND w.latest_transition = 'start'
                                         AND w.latest_job_status = 'pending') AS first_pending
                 FROM ${s}.workspaces w
                 LEFT JOIN (SELECT p.id, ${freshSinceSql('p', '$2')} AS fresh_since
                              FROM ${s}.template_version_presets p
                             WHERE p.ttl_seconds > 0 OR p.last_invalidated_at IS NOT NULL) e ON e.id = w.preset_id
                WHERE w.owner_id = ${this.ns.owner} AND NOT w.deleted
                  AND ($1::text IS NULL OR w.template_id = $1)
                GROUP BY w.preset_id, w.latest_version_id) a
         JOIN ${s}.template_version_presets p ON p.id = a.preset_id
         JOIN ${s}.template_versions v ON v.id = p.template_version_id
         JOIN ${s}.templates t ON t.id = v.template_id`,
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

  /** countDemand by itself, outside any transaction (the metrics' scrape). */
  countDemandAlone(templateId: string | null, now: Date): Promise<DemandRow[]> {
    return this.countDemand(this.dataSource.manager, templateId, now);
  }

  /**
   * Cluster-wide counts for the cluster caps (DESIGN.md rule 11), whatever template a cycle looks at: prebuild start
   * jobs pending or running, and live prebuilds (failed and stopped ones included: they hold capacity until an
   * operator removes them; those whose latest build is a delete are on their way out). One statement on
   * idx_workspaces_prebuilds, run only by cycles that want to create something.
   */
  async readClusterTotals(manager: EntityManager): Promise<ClusterTotals> {
    const [row] = await manager.query(
      `SELECT count(*) FILTER (WHERE w.latest_transition = 'start'
                                   AND w.latest_job_status IN ('pending', 'running'))::int AS "inFlightCreates",
              count(*) FILTER (WHERE w.latest_transition <> 'delete')::int AS prebuilds
         FROM ${this.ns.schema}.workspaces w
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

/** One preset's prebuilds at one build version, as summarizePrebuilds reads them (a preset may have two rows). */
interface PrebuildSummaryRow {
  presetId: string;
  /** Both null unless the row has builds in flight. */
  templateId: string | null;
  activeVersionId: string | null;
  running: number;
  ready: number;
  expired: number;
  starting: number;
  stopping: number;
  deleting: number;
  pendingNonActive: number;
  inactiveWithPrebuilds: boolean;
}

/** The summary in the engine's input shapes, and whether a preset off its active version has live prebuilds. */
type PrebuildSummary = Pick<
  SnapshotInput,
  'running' | 'runningCounts' | 'inProgress' | 'pendingNonActive'
> & {
  inactiveWithPrebuilds: boolean;
};

/** The active presets and schedules read at one catalog version (readCatalog). */
class CatalogCopy {
  private readonly byTemplate = new Map<string, { presets: PresetRow[]; schedules: PrebuildScheduleRow[] }>();

  constructor(
    readonly version: string,
    private readonly presets: PresetRow[],
    private readonly schedules: PrebuildScheduleRow[],
  ) {}

  presetsOf(templateId: string | null): PresetRow[] {
    return templateId === null ? this.presets : this.ofTemplate(templateId).presets;
  }

  schedulesOf(templateId: string | null): PrebuildScheduleRow[] {
    return templateId === null ? this.schedules : this.ofTemplate(templateId).schedules;
  }

  private ofTemplate(templateId: string): { presets: PresetRow[]; schedules: PrebuildScheduleRow[] } {
    let part = this.byTemplate.get(templateId);
    if (!part) {
      const presets = this.presets.filter((p) => p.templateId === templateId);
      const ids = new Set(presets.map((p) => p.presetId));
      part = { presets, schedules: this.schedules.filter((s) => ids.has(s.presetId)) };
      this.byTemplate.set(templateId, part);
    }
    return part;
  }
}

/**
 * The summary rows in the engine's input shapes, one entry per row and kind: GlobalSnapshot adds up the entries of a
 * preset that had prebuilds at two versions.
 */
function splitSummary(rows: PrebuildSummaryRow[]): PrebuildSummary {
  const runningCounts: RunningCountRow[] = [];
  const inProgress: SnapshotInput['inProgress'] = [];
  const pendingNonActive: SnapshotInput['pendingNonActive'] = [];
  let inactiveWithPrebuilds = false;
  for (const row of rows) {
    if (row.inactiveWithPrebuilds) inactiveWithPrebuilds = true;
    if (row.running > 0) {
      runningCounts.push({
        presetId: row.presetId,
        running: row.running,
        ready: row.ready,
        expired: row.expired,
      });
    }
    if (row.activeVersionId !== null) {
      if (row.starting > 0) inProgress.push(inProgressRow(row, 'start', row.starting));
      if (row.stopping > 0) inProgress.push(inProgressRow(row, 'stop', row.stopping));
      if (row.deleting > 0) inProgress.push(inProgressRow(row, 'delete', row.deleting));
    }
    if (row.pendingNonActive > 0)
      pendingNonActive.push({ presetId: row.presetId, count: row.pendingNonActive });
  }
  return { running: [], runningCounts, inProgress, pendingNonActive, inactiveWithPrebuilds };
}

function inProgressRow(
  row: PrebuildSummaryRow,
  transition: Transition,
  count: number,
): SnapshotInput['inProgress'][number] {
  return {
    presetId: row.presetId,
    templateId: row.templateId as string,
    templateVersionId: row.activeVersionId as string,
    transition,
    count,
  };
}
