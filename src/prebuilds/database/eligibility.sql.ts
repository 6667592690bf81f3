import type { PrebuildsNamespace } from './prebuilds-namespace.js';

/**
 * DESIGN.md rules 1, 3 and 4 in SQL, written once: the claim picks among, the snapshot counts and the status report
 * lists exactly the prebuilds these fragments accept, so that what a user can be handed and what the engine calls
 * `eligible` never drift apart. Each takes the aliases of the caller's FROM clause; `now` is a SQL expression (a
 * bind parameter: the cycle's or the claim's `now`).
 */

/**
 * A running prebuild: a live workspace of the prebuilds owner whose latest build is a succeeded start. The latest
 * build's transition and job status are kept on the workspace (migration 1765600000000-LatestBuildState), so that no
 * caller joins every live workspace to its build and job.
 */
export function runningPrebuildSql(ns: PrebuildsNamespace, workspace: string): string {
  return `(${workspace}.owner_id = ${ns.owner} AND NOT ${workspace}.deleted
     AND ${workspace}.latest_transition = 'start' AND ${workspace}.latest_job_status = 'succeeded')`;
}

/**
 * Ready: the latest build's job brought up agents and every one of them is ready (no agents is not ready). Kept on
 * the job by triggers on workspace_agents (migration 1765100000000-AgentsReady) and copied to the workspace with the
 * rest of the latest build's state.
 */
export function agentsReadySql(workspace: string): string {
  return `${workspace}.latest_agents_ready`;
}

/**
 * The oldest creation time at which a preset's prebuild is not expired at `now` (rule 3): its last invalidation, and,
 * when it has a TTL, `now` − TTL (age = now − created_at, strictly greater is expired); -infinity when neither.
 */
export function freshSinceSql(preset: string, now: string): string {
  return `GREATEST(COALESCE(${preset}.last_invalidated_at, '-infinity'::timestamptz),
     CASE WHEN ${preset}.ttl_seconds > 0 THEN ${now}::timestamptz - make_interval(secs => ${preset}.ttl_seconds)
          ELSE '-infinity'::timestamptz END)`;
}

/** Not expired at `now` (rule 3): created at or after freshSinceSql. */
export function notExpiredSql(workspace: string, preset: string, now: string): string {
  return `(${workspace}.created_at >= ${freshSinceSql(preset, now)})`;
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
  a: { workspace: string; preset: string; template: string; now: string },
): string {
  return `(${runningPrebuildSql(ns, a.workspace)} AND ${activePresetSql(a.preset, a.template)}
     AND ${notExpiredSql(a.workspace, a.preset, a.now)} AND ${agentsReadySql(a.workspace)})`;
}
