import { Injectable } from '@nestjs/common';
import type { ParameterDefinition } from './workspace-build.repository.js';
import { PrebuildsLock } from './advisory-locks.js';
import type { NamedStatement } from './claim-pool.js';
import { eligiblePrebuildSql } from './eligibility.sql.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

/** A template as a claim needs it: its active version's parameter definitions and presets (immutable per version). */
export interface ClaimableTemplate {
  organizationId: string;
  activeVersionId: string | null;
  deleted: boolean;
  definitions: ParameterDefinition[];
  /** The active version's presets, ordered by name then id (the order a parameter match breaks ties in). */
  presets: { presetId: string; parameters: Record<string, string> }[];
}

/** Everything the claim statement writes, decided before it runs (ids are made in Node). */
export interface ClaimInput {
  templateId: string;
  /** The active version the parameters were checked against; the statement does nothing if it is no longer. */
  versionId: string;
  presetId: string | null;
  ownerId: string;
  name: string;
  now: Date;
  /** Used when no prebuild is handed over (a miss, or no preset). */
  newWorkspaceId: string;
  buildId: string;
  jobId: string;
  parameters: Record<string, string>;
  /** The owner's most live workspaces; null → no quota. Only under lockOwnerStatement's lock. */
  maxLiveWorkspaces: number | null;
}

export interface ClaimOutcome {
  templateLive: boolean;
  versionCurrent: boolean;
  withinQuota: boolean;
  /** The owner's live workspaces before this one (counted only with a quota). */
  live: number;
  /** Null when a check failed and nothing was written. */
  workspaceId: string | null;
  claimed: boolean;
}

/**
 * The claim: handing an eligible prebuild to a user (or building on a miss) in one statement. It only builds the
 * NamedStatements the claim pool runs (ClaimPool: plain pg connections, each statement prepared once per
 * connection), so it needs the namespace and no DataSource (database/README.md).
 */
@Injectable()
export class ClaimRepository {
  private readonly claimSql: string;
  private readonly templateSql: string;

  constructor(private readonly ns: PrebuildsNamespace) {
    this.claimSql = claimStatementSql(ns);
    this.templateSql = claimableTemplateSql(ns);
  }

  /**
   * The whole claim or miss as one statement, so one round trip and one commit: the checks (template live, the
   * version the caller validated against still active, the owner's quota) come back as flags and, when one fails,
   * nothing is written. Otherwise the oldest eligible prebuild of the preset (eligibility.sql.ts: exactly the
   * engine's `eligible`) is handed over — SKIP LOCKED makes concurrent claimers take different rows instead of
   * waiting for the same one — or, when there is none, a new workspace is written; either way with its start build,
   * job, parameters and latest-build pointer. Served by idx_workspaces_prebuilds (preset_id, created_at, id).
   */
  claimStatement(input: ClaimInput): NamedStatement {
    const names = Object.keys(input.parameters);
    return {
      name: 'prebuilds_claim',
      text: this.claimSql,
      values: [
        input.templateId,
        input.versionId,
        input.presetId,
        input.ownerId,
        input.name,
        input.now,
        input.newWorkspaceId,
        input.buildId,
        input.jobId,
        names,
        names.map((name) => input.parameters[name]),
        input.maxLiveWorkspaces,
      ],
    };
  }

  /**
   * The owner's quota lock (transaction-scoped, see PrebuildsLock.WorkspaceQuota), taken in its own statement before
   * the claim statement so that the claim's count is read after the lock: concurrent creates of one owner count
   * their live workspaces one after another.
   */
  lockOwnerStatement(ownerId: string): NamedStatement {
    return {
      name: 'prebuilds_claim_quota_lock',
      text: 'SELECT pg_advisory_xact_lock($1::int, hashtext($2::text))',
      values: [this.ns.lockNamespace ^ PrebuildsLock.WorkspaceQuota, ownerId],
    };
  }

  /**
   * A template with its active version's definitions and presets, in one statement; no row when absent. A template
   * read kept here rather than in CatalogRepository (the home of template reads): it is a claim pool statement, run
   * on the claim's own connections and prepared there next to claimStatement, which reads the same row again; in
   * the catalog it would be the one statement there that does not run on the DataSource.
   */
  claimableTemplateStatement(templateId: string): NamedStatement {
    return { name: 'prebuilds_claimable_template', text: this.templateSql, values: [templateId] };
  }
}

function claimableTemplateSql(ns: PrebuildsNamespace): string {
  const s = ns.schema;
  return `SELECT t.organization_id AS "organizationId", t.active_version_id AS "activeVersionId", t.deleted,
          COALESCE((SELECT json_agg(json_build_object('name', d.name, 'type', d.type, 'required', d.required,
                                                      'defaultValue', d.default_value) ORDER BY d.ordinal, d.name)
                      FROM ${s}.template_version_parameters d WHERE d.template_version_id = t.active_version_id),
                   '[]') AS definitions,
          COALESCE((SELECT json_agg(json_build_object(
                             'presetId', p.id,
                             'parameters', COALESCE((SELECT json_object_agg(pp.name, pp.value)
                                                       FROM ${s}.template_version_preset_parameters pp
                                                      WHERE pp.preset_id = p.id), '{}'))
                           ORDER BY p.name, p.id)
                      FROM ${s}.template_version_presets p WHERE p.template_version_id = t.active_version_id),
                   '[]') AS presets
     FROM ${s}.templates t WHERE t.id = $1::text`;
}

/**
 * $1 template, $2 validated version, $3 preset (or null), $4 owner, $5 name, $6 now, $7 new workspace id, $8 build
 * id, $9 job id, $10/$11 parameter names/values, $12 quota (or null). Data-modifying CTEs all see one snapshot and
 * run to completion whatever the final SELECT reads; each write is therefore gated on `go` (every check passed) or
 * on `target` (a workspace was claimed or created). The foreign keys are checked at the statement's end, when the
 * job, the build and the workspace all exist.
 */
function claimStatementSql(ns: PrebuildsNamespace): string {
  const s = ns.schema;
  const eligible = eligiblePrebuildSql(ns, {
    workspace: 'c',
    preset: 'p',
    template: 't',
    now: '$6',
  });
  return `WITH tpl AS (
      SELECT organization_id, active_version_id, deleted, provisioner_tags FROM ${s}.templates WHERE id = $1::text
    ), live AS (
      SELECT count(*)::int AS n FROM ${s}.workspaces
       WHERE $12::int IS NOT NULL AND owner_id = $4::text AND NOT deleted
    ), checks AS (
      SELECT COALESCE(NOT tpl.deleted AND tpl.active_version_id IS NOT NULL, false) AS template_live,
             COALESCE(tpl.active_version_id = $2::uuid, false) AS version_current,
             ($12::int IS NULL OR live.n < $12::int) AS within_quota,
             live.n AS live
        FROM live LEFT JOIN tpl ON true
    ), go AS (
      SELECT 1 FROM checks WHERE template_live AND version_current AND within_quota
    ), candidate AS (
      SELECT c.id, c.latest_build_number AS build_number
        FROM ${s}.workspaces c
        JOIN ${s}.templates t ON t.id = c.template_id
        JOIN ${s}.template_version_presets p ON p.id = c.preset_id
       WHERE c.preset_id = $3::uuid AND EXISTS (SELECT 1 FROM go) AND ${eligible}
       ORDER BY c.created_at, c.id
       LIMIT 1
         FOR UPDATE OF c SKIP LOCKED
    ), claimed AS (
      -- The new build's state goes on the workspace with its pointer (migration 1765600000000-LatestBuildState).
      UPDATE ${s}.workspaces w
         SET owner_id = $4::text, name = $5::text, updated_at = $6::timestamptz, last_used_at = $6::timestamptz,
             latest_build_id = $8::uuid, latest_transition = 'start', latest_build_number = candidate.build_number + 1,
             latest_version_id = $2::uuid, latest_job_status = 'pending', latest_agents_ready = false
        FROM candidate WHERE w.id = candidate.id
      RETURNING w.id, candidate.build_number + 1 AS build_number, true AS claimed
    ), created AS (
      INSERT INTO ${s}.workspaces (id, organization_id, template_id, owner_id, name, preset_id, latest_build_id,
                                   latest_transition, latest_build_number, latest_version_id, latest_job_status,
                                   created_at, updated_at)
      SELECT $7::uuid, tpl.organization_id, $1::text, $4::text, $5::text, $3::uuid, $8::uuid,
             'start', 1, $2::uuid, 'pending', $6::timestamptz, $6::timestamptz
        FROM tpl WHERE EXISTS (SELECT 1 FROM go) AND NOT EXISTS (SELECT 1 FROM claimed)
      RETURNING id, 1 AS build_number, false AS claimed
    ), target AS (
      SELECT * FROM claimed UNION ALL SELECT * FROM created
    ), job AS (
      -- Tagged as WorkspaceBuildRepository.insertBuilds tags every job: the template's tags, is_prebuild for the
      -- prebuilds owner's builds (never a claim's, but the rule is the same everywhere).
      INSERT INTO ${s}.provisioner_jobs (id, created_at, updated_at, tags)
      SELECT $9::uuid, $6::timestamptz, $6::timestamptz,
             tpl.provisioner_tags
               || CASE WHEN $4::text = ${ns.owner} THEN '{"is_prebuild": "true"}'::jsonb ELSE '{}'::jsonb END
        FROM target, tpl
    ), build AS (
      INSERT INTO ${s}.workspace_builds (id, workspace_id, build_number, transition, template_version_id, preset_id,
                                         initiator_id, reason, job_id, created_at)
      SELECT $8::uuid, target.id, target.build_number, 'start', $2::uuid, $3::uuid, $4::text,
             CASE WHEN target.claimed THEN 'claim' ELSE 'initiator' END, $9::uuid, $6::timestamptz
        FROM target
    ), parameters AS (
      INSERT INTO ${s}.workspace_build_parameters (build_id, name, value)
      SELECT $8::uuid, x.name, x.value FROM unnest($10::text[], $11::text[]) AS x(name, value)
       WHERE EXISTS (SELECT 1 FROM target)
    )
    SELECT checks.template_live AS "templateLive", checks.version_current AS "versionCurrent",
           checks.within_quota AS "withinQuota", checks.live, target.id AS "workspaceId",
           COALESCE(target.claimed, false) AS claimed
      FROM checks LEFT JOIN target ON true`;
}
