import type { PrebuildsNamespace } from './prebuilds-namespace.js';

/**
 * The tag the module puts on every prebuild's own jobs (and a provisioner key may hold to take only those, or none of
 * them). Here, below the repositories that match on it; the provisioner's tag validation re-exports it.
 */
export const IS_PREBUILD_TAG = 'is_prebuild';

/**
 * A job's tags in SQL: its template's tags, and is_prebuild for a build the prebuilds owner initiates (never a
 * user's, claims included). `templateTags` and `initiator` are SQL expressions of the caller's statement.
 */
export function jobTagsSql(ns: PrebuildsNamespace, templateTags: string, initiator: string): string {
  return `${templateTags}
               || CASE WHEN ${initiator} = ${ns.owner} THEN '{"${IS_PREBUILD_TAG}": "true"}'::jsonb ELSE '{}'::jsonb END`;
}
