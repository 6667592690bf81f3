import type { PrebuildsNamespace } from './prebuilds-namespace.js';

/**
 * SQL boolean: the last `limit` finished (succeeded, or failed as reported by a provisioner) prebuild start builds of the preset `preset`, created
 * after its failure reset, all failed. Shared by the snapshot (which presets are at the hard limit) and resume
 * (which must clear a limit the snapshot would report even if no cycle has stored it yet), so the two never
 * disagree. `limit` is a SQL expression (a bind parameter); 0 never qualifies. Index: idx_builds_preset_starts.
 */
export function atHardLimitSql(ns: PrebuildsNamespace, preset: string, limit: string): string {
  return `(${limit} > 0 AND (
    SELECT count(*) = ${limit} AND bool_and(last.job_status = 'failed')
      FROM (SELECT j.job_status
              FROM ${ns.schema}.workspace_builds b JOIN ${ns.schema}.provisioner_jobs j ON j.id = b.job_id
             WHERE b.preset_id = ${preset}.id AND b.transition = 'start' AND b.initiator_id = ${ns.owner}
               AND b.created_at > COALESCE(${preset}.failure_reset_at, '-infinity')
               -- Infrastructure failures (provisioner_lost, timeout, canceled) are no verdict on the build.
               AND (j.job_status = 'succeeded'
                    OR (j.job_status = 'failed' AND COALESCE(j.failure_kind, 'build') = 'build'))
             ORDER BY b.created_at DESC, b.id DESC
             LIMIT ${limit}) last))`;
}
