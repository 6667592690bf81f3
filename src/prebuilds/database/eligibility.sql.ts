import type { PrebuildsNamespace } from './prebuilds-namespace.js';

/**
 * DESIGN.md rules 1, 3 and 4 in SQL, written once: the claim picks among, the snapshot counts and the status report
 * lists exactly the prebuilds these fragments accept, so that what a user can be handed and what the engine calls
 * `eligible` never drift apart. Each takes the aliases of the
 * caller's FROM clause; `now` is a SQL expression (a bind parameter: the cycle's or the claim's `now`).
 */
export interface PrebuildAliases {
  /** workspaces */
  workspace: string;
  /** its latest build (workspace_builds joined on latest_build_id) */
  build: string;
  /** that build's provisioner job */
  job: string;
}

/** A running prebuild: a live workspace of the prebuilds owner whose latest build is a succeeded start. */
export function runningPrebuildSql(ns: PrebuildsNamespace, a: PrebuildAliases): string {
  return `(${a.workspace}.owner_id = ${ns.owner} AND NOT ${a.workspace}.deleted
     AND ${a.build}.transition = 'start' AND ${a.job}.job_status = 'succeeded')`;
}

/**
 * Ready: the build has agents and every one of them is ready (no agents is not ready), as EXISTS / NOT EXISTS on
 * idx_agents_job, for row-by-row reads (the claim, running rows). agentReadinessByJobSql is the same rule for
 * aggregates; the two must agree.
 */
export function agentsReadySql(ns: PrebuildsNamespace, build: string): string {
  return `(EXISTS (SELECT 1 FROM ${ns.schema}.workspace_agents ag WHERE ag.job_id = ${build}.job_id)
     AND NOT EXISTS (SELECT 1 FROM ${ns.schema}.workspace_agents ag
                      WHERE ag.job_id = ${build}.job_id AND ag.lifecycle_state <> 'ready'))`;
}

/**
 * The same readiness for a set-based read: a relation of (job_id, ready) to LEFT JOIN on the build's job, where
 * `ready IS TRUE` is agentsReadySql's answer (a job without agents has no row). Unlike the EXISTS pair it is
 * parallel-safe, so a 100k-row aggregate over it runs in the parallel workers instead of the leader alone.
 */
export function agentReadinessByJobSql(ns: PrebuildsNamespace): string {
  return `(SELECT ag.job_id, bool_and(ag.lifecycle_state = 'ready') AS ready
             FROM ${ns.schema}.workspace_agents ag GROUP BY ag.job_id)`;
}

/**
 * Not expired at `now` (rule 3): created at or after the preset's last invalidation, and, when the preset has a TTL,
 * no older than it (age = now − created_at, strictly greater is expired).
 */
export function notExpiredSql(workspace: string, preset: string, now: string): string {
  return `((${preset}.last_invalidated_at IS NULL OR ${workspace}.created_at >= ${preset}.last_invalidated_at)
     AND (COALESCE(${preset}.ttl_seconds, 0) <= 0
          OR ${workspace}.created_at >= ${now}::timestamptz - make_interval(secs => ${preset}.ttl_seconds)))`;
}

/** Active (rule 1): the preset is on its template's active version, the template neither deleted nor deprecated. */
export function activePresetSql(preset: string, template: string): string {
  return `(${preset}.template_version_id = ${template}.active_version_id
     AND NOT ${template}.deleted AND ${template}.deprecated = '')`;
}

/**
 * Eligible (rule 4): running, ready, not expired at `now`, of an active preset. `preset` and `template` are the
 * aliases of the workspace's preset and template.
 */
export function eligiblePrebuildSql(
  ns: PrebuildsNamespace,
  a: PrebuildAliases & { preset: string; template: string; now: string },
): string {
  return `(${runningPrebuildSql(ns, a)} AND ${activePresetSql(a.preset, a.template)}
     AND ${notExpiredSql(a.workspace, a.preset, a.now)} AND ${agentsReadySql(ns, a.build)})`;
}
