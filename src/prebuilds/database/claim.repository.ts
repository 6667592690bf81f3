import { Injectable } from '@nestjs/common';
import type { ParameterDefinition } from './workspace-build.repository.js';
import { PrebuildsLock } from './advisory-locks.js';
import type { NamedStatement } from './claim-pool.js';
import { eligiblePrebuildSql } from './eligibility.sql.js';
import { jobTagsSql } from './job-tags.js';
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
  /** The owner's most live workspaces; null → no quota. Only under lockOwnersStatement's lock. */
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
  private readonly claimBatchSql: string;
  private readonly templateSql: string;

  constructor(private readonly ns: PrebuildsNamespace) {
    this.claimSql = claimStatementSql(ns);
    this.claimBatchSql = claimBatchStatementSql(ns);
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
   * Several claims of one preset in one statement, one commit: what claimStatement does for each, with the same
   * checks, for callers that queued while every claim connection was busy (ClaimBatcher). The inputs must share
   * template, version, preset, parameter values and quota; under a quota their owners must differ, and the
   * statement must follow lockOwnersStatement in one transaction. The oldest eligible prebuilds go to the inputs
   * within their quota, in their order (SKIP LOCKED, as many as there are such inputs); those left without one are
   * misses and get a new workspace. One outcome per input, in their order. A taken name fails the whole statement
   * and writes nothing: the caller then runs the inputs one by one.
   */
  claimBatchStatement(inputs: ClaimInput[]): NamedStatement {
    const [first] = inputs;
    const names = Object.keys(first.parameters);
    return {
      name: 'prebuilds_claim_batch',
      text: this.claimBatchSql,
      values: [
        first.templateId,
        first.versionId,
        first.presetId,
        inputs.map((input) => input.ownerId),
        inputs.map((input) => input.name),
        inputs.map((input) => input.now),
        inputs.map((input) => input.newWorkspaceId),
        inputs.map((input) => input.buildId),
        inputs.map((input) => input.jobId),
        names,
        names.map((name) => first.parameters[name]),
        new Date(Math.max(...inputs.map((input) => input.now.getTime()))),
        first.maxLiveWorkspaces,
      ],
    };
  }

  /**
   * The owners' quota locks (transaction-scoped, see PrebuildsLock.WorkspaceQuota), taken in their own statement
   * before the claim statement (claimStatement or claimBatchStatement, in one transaction) so that the claim's count
   * is read after the locks: concurrent creates of one owner count their live workspaces one after another. Taken in
   * one order (the owners' text order), so that two batches locking overlapping owners cannot deadlock.
   */
  lockOwnersStatement(ownerIds: string[]): NamedStatement {
    return {
      name: 'prebuilds_claim_quota_locks',
      text: `SELECT pg_advisory_xact_lock($1::int, hashtext(owner_id))
               FROM (SELECT DISTINCT unnest($2::text[]) AS owner_id ORDER BY 1) AS owners`,
      values: [this.ns.lockNamespace ^ PrebuildsLock.WorkspaceQuota, ownerIds],
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
  const eligible = candidateEligibleSql(ns, '$6');
  return `WITH tpl AS (
      SELECT organization_id, active_version_id, deleted, provisioner_tags FROM ${s}.templates WHERE id = $1::text
    ), live AS (
      SELECT CASE WHEN $12::int IS NULL THEN 0 ELSE ${ownerLiveCountSql(ns, '$4::text')} END AS n
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
             ${jobTagsSql(ns, 'tpl.provisioner_tags', '$4::text')}
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

/**
 * claimStatementSql for several inputs of one preset: $1 template, $2 validated version, $3 preset, $4 owners,
 * $5 names, $6 nows, $7 new workspace ids, $8 build ids, $9 job ids (one element per input, in order), $10/$11
 * parameter names/values (shared), $12 the latest of the nows, at which eligibility (TTL) is judged: a prebuild
 * expired at any input's time is handed to none; $13 the quota (or null), checked per owner. Same gating as the
 * single statement: every write waits on `go` (through `served`) or on `target`; the foreign keys are checked at the
 * statement's end.
 */
function claimBatchStatementSql(ns: PrebuildsNamespace): string {
  const s = ns.schema;
  const eligible = candidateEligibleSql(ns, '$12');
  return `WITH req AS (
      -- Under a quota, each owner's live workspaces, counted after the owners' locks (an earlier statement).
      SELECT r.*, CASE WHEN $13::int IS NULL THEN 0 ELSE ${ownerLiveCountSql(ns, 'r.owner_id')} END AS live
        FROM unnest($4::text[], $5::text[], $6::timestamptz[], $7::uuid[], $8::uuid[], $9::uuid[])
               WITH ORDINALITY AS r(owner_id, name, at, new_id, build_id, job_id, ord)
    ), tpl AS (
      SELECT organization_id, active_version_id, deleted, provisioner_tags FROM ${s}.templates WHERE id = $1::text
    ), checks AS (
      SELECT COALESCE(NOT tpl.deleted AND tpl.active_version_id IS NOT NULL, false) AS template_live,
             COALESCE(tpl.active_version_id = $2::uuid, false) AS version_current
        FROM (SELECT 1) AS one LEFT JOIN tpl ON true
    ), go AS (
      SELECT 1 FROM checks WHERE template_live AND version_current
    ), served AS (
      -- The inputs that get a workspace, numbered in order: every check passed and the owner is within the quota.
      SELECT req.*, row_number() OVER (ORDER BY req.ord) AS slot
        FROM req WHERE EXISTS (SELECT 1 FROM go) AND ($13::int IS NULL OR req.live < $13::int)
    ), locked AS (
      SELECT c.id, c.latest_build_number AS build_number, c.created_at
        FROM ${s}.workspaces c
        JOIN ${s}.templates t ON t.id = c.template_id
        JOIN ${s}.template_version_presets p ON p.id = c.preset_id
       WHERE c.preset_id = $3::uuid AND ${eligible}
       ORDER BY c.created_at, c.id
       LIMIT (SELECT count(*) FROM served)
         FOR UPDATE OF c SKIP LOCKED
    ), candidate AS (
      -- Oldest first to the first served input (window functions cannot share a level with FOR UPDATE).
      SELECT id, build_number, row_number() OVER (ORDER BY created_at, id) AS slot FROM locked
    ), pairs AS (
      SELECT served.*, candidate.id AS claimed_id, candidate.build_number AS claimed_build_number
        FROM served LEFT JOIN candidate ON candidate.slot = served.slot
    ), claimed AS (
      UPDATE ${s}.workspaces w
         SET owner_id = pairs.owner_id, name = pairs.name, updated_at = pairs.at, last_used_at = pairs.at,
             latest_build_id = pairs.build_id, latest_transition = 'start',
             latest_build_number = pairs.claimed_build_number + 1, latest_version_id = $2::uuid,
             latest_job_status = 'pending', latest_agents_ready = false
        FROM pairs WHERE w.id = pairs.claimed_id
      RETURNING w.id, pairs.ord, pairs.claimed_build_number + 1 AS build_number, true AS claimed
    ), created AS (
      INSERT INTO ${s}.workspaces (id, organization_id, template_id, owner_id, name, preset_id, latest_build_id,
                                   latest_transition, latest_build_number, latest_version_id, latest_job_status,
                                   created_at, updated_at)
      SELECT pairs.new_id, tpl.organization_id, $1::text, pairs.owner_id, pairs.name, $3::uuid, pairs.build_id,
             'start', 1, $2::uuid, 'pending', pairs.at, pairs.at
        FROM pairs, tpl WHERE pairs.claimed_id IS NULL
      RETURNING id
    ), target AS (
      SELECT claimed.id, claimed.ord, claimed.build_number, claimed.claimed FROM claimed
      UNION ALL
      SELECT created.id, pairs.ord, 1, false FROM created JOIN pairs ON pairs.new_id = created.id
    ), detail AS (
      SELECT target.*, req.owner_id, req.at, req.build_id, req.job_id FROM target JOIN req ON req.ord = target.ord
    ), job AS (
      INSERT INTO ${s}.provisioner_jobs (id, created_at, updated_at, tags)
      SELECT detail.job_id, detail.at, detail.at,
             ${jobTagsSql(ns, 'tpl.provisioner_tags', 'detail.owner_id')}
        FROM detail, tpl
    ), build AS (
      INSERT INTO ${s}.workspace_builds (id, workspace_id, build_number, transition, template_version_id, preset_id,
                                         initiator_id, reason, job_id, created_at)
      SELECT detail.build_id, detail.id, detail.build_number, 'start', $2::uuid, $3::uuid, detail.owner_id,
             CASE WHEN detail.claimed THEN 'claim' ELSE 'initiator' END, detail.job_id, detail.at
        FROM detail
    ), parameters AS (
      INSERT INTO ${s}.workspace_build_parameters (build_id, name, value)
      SELECT detail.build_id, x.name, x.value FROM detail, unnest($10::text[], $11::text[]) AS x(name, value)
    )
    SELECT checks.template_live AS "templateLive", checks.version_current AS "versionCurrent",
           ($13::int IS NULL OR req.live < $13::int) AS "withinQuota", req.live, detail.id AS "workspaceId",
           COALESCE(detail.claimed, false) AS claimed
      FROM req CROSS JOIN checks LEFT JOIN detail ON detail.ord = req.ord
     ORDER BY req.ord`;
}

/**
 * The owner's live workspaces, which the quota limits. Claim connections plan generically, and a generic plan
 * estimates `owner_id = <parameter>` as the rows divided by the distinct owners ANALYZE saw. Just after a pool has
 * filled, ANALYZE saw the prebuilds owner alone: the estimate is every row, and each count read the whole table
 * (1.4 ms per owner at 5,000 workspaces, in every claim). A closed range on the owner is estimated with PostgreSQL's
 * fixed range selectivity whatever the statistics, so the count reads only this owner's entries of the index
 * uq_workspaces_owner_name (owner_id, lower(name)) WHERE NOT deleted.
 */
function ownerLiveCountSql(ns: PrebuildsNamespace, owner: string): string {
  return `(SELECT count(*)::int FROM ${ns.schema}.workspaces o
            WHERE o.owner_id >= ${owner} AND o.owner_id <= ${owner} AND NOT o.deleted)`;
}

/** Eligibility (eligibility.sql.ts) of a claim's candidate `c`, joined to its preset `p` and template `t`. */
function candidateEligibleSql(ns: PrebuildsNamespace, now: string): string {
  return eligiblePrebuildSql(ns, { workspace: 'c', preset: 'p', template: 't', now });
}
