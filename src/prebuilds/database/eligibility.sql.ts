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
 * Ready: the job brought up agents and every one of them is ready (no agents is not ready). The flag is kept on the
 * job by triggers on workspace_agents (migration 1765100000000-AgentsReady), so that counting readiness over 100k
 * prebuilds reads one column instead of every agent.
 */
export function agentsReadySql(job: string): string {
  return `${job}.agents_ready`;
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
     AND ${notExpiredSql(a.workspace, a.preset, a.now)} AND ${agentsReadySql(a.job)})`;
}
