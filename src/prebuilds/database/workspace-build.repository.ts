import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { Transition } from '../state/types.js';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';
import { jobTagsSql } from './job-tags.js';

/** A template version's parameter, as a build checks the values given against it (builder/parameter-validation). */
export interface ParameterDefinition {
  name: string;
  type: 'string' | 'number' | 'bool';
  required: boolean;
  defaultValue: string | null;
}

/** A new prebuild: a workspace of the prebuilds owner with its first build, a start on its preset's version. */
export interface NewPrebuild {
  workspaceId: string;
  buildId: string;
  jobId: string;
  organizationId: string;
  templateId: string;
  presetId: string;
  templateVersionId: string;
  name: string;
  parameters: Record<string, string>;
  createdAt: Date;
}

export interface NewBuild {
  id: string;
  jobId: string;
  workspaceId: string;
  buildNumber: number;
  transition: Transition;
  templateVersionId: string;
  presetId: string | null;
  initiatorId: string;
  reason: string;
  parameters: Record<string, string>;
  createdAt: Date;
  /** Set for a build that needs no provisioner (an orphan delete): its job is written already completed. */
  completedAt?: Date;
}

export interface BuildInputs {
  presetId: string;
  templateId: string;
  organizationId: string;
  templateVersionId: string;
  activeVersionId: string | null;
  definitions: ParameterDefinition[];
  presetParameters: Record<string, string>;
}

export interface LiveWorkspace {
  id: string;
  ownerId: string;
  templateId: string;
  presetId: string | null;
  latestBuildNumber: number;
  latestVersionId: string;
  latestPresetId: string | null;
  latestParameters: Record<string, string>;
}

export interface CanceledPrebuild {
  workspaceId: string;
  templateVersionId: string;
  buildNumber: number;
}

/** Writes of workspaces, builds and their provisioner jobs, set-based so that a batch costs a fixed few statements. */
@Injectable()
export class WorkspaceBuildRepository {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  /**
   * What presets' builds need, for many presets in one statement: each preset's version, that version's parameter
   * definitions and the preset's values, and the template's active version. Presets that do not exist are absent.
   */
  async findPresetsBuildInputs(presetIds: string[]): Promise<BuildInputs[]> {
    const s = this.ns.schema;
    // Definitions are aggregated once per version, not once per preset (a fill of 1,000 presets on 100 versions
    // built the same JSON ten times over).
    return this.dataSource.query(
      `WITH wanted AS (
         SELECT p.id, p.template_version_id FROM ${s}.template_version_presets p WHERE p.id = ANY($1::uuid[])
       ), definitions AS (
         SELECT d.template_version_id,
                json_agg(json_build_object('name', d.name, 'type', d.type, 'required', d.required,
                                           'defaultValue', d.default_value) ORDER BY d.ordinal, d.name) AS list
           FROM ${s}.template_version_parameters d
          WHERE d.template_version_id IN (SELECT template_version_id FROM wanted)
          GROUP BY d.template_version_id
       ), preset_values AS (
         SELECT pp.preset_id, json_object_agg(pp.name, pp.value) AS map
           FROM ${s}.template_version_preset_parameters pp
          WHERE pp.preset_id = ANY($1::uuid[])
          GROUP BY pp.preset_id
       )
       SELECT wanted.id AS "presetId", t.id AS "templateId", t.organization_id AS "organizationId",
              wanted.template_version_id AS "templateVersionId", t.active_version_id AS "activeVersionId",
              COALESCE(definitions.list, '[]') AS definitions, COALESCE(preset_values.map, '{}') AS "presetParameters"
         FROM wanted
         JOIN ${s}.template_versions v ON v.id = wanted.template_version_id
         JOIN ${s}.templates t ON t.id = v.template_id
         LEFT JOIN definitions ON definitions.template_version_id = wanted.template_version_id
         LEFT JOIN preset_values ON preset_values.preset_id = wanted.id`,
      [presetIds],
    );
  }

  /**
   * Writes prebuilds, each a workspace with its first build, that build's job and its parameters, in one statement
   * for any number (one round trip and one commit per batch; the foreign keys are checked at the statement's end,
   * when every row exists). The workspace carries its latest build's state as written (migration
   * 1765600000000-LatestBuildState); the job is tagged as insertBuilds tags a prebuild's.
   */
  async insertPrebuilds(prebuilds: NewPrebuild[]): Promise<void> {
    if (prebuilds.length === 0) return;
    const s = this.ns.schema;
    const parameters = prebuilds.flatMap((p) =>
      Object.entries(p.parameters).map(([name, value]) => ({ buildId: p.buildId, name, value })),
    );
    await this.dataSource.query(
      `WITH x AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::uuid[],
                              $8::text[], $9::timestamptz[])
                  AS x(workspace, build, job, org, tpl, preset, version, name, at)
       ), jobs AS (
         INSERT INTO ${s}.provisioner_jobs (id, created_at, updated_at, tags)
         SELECT x.job, x.at, x.at, COALESCE(t.provisioner_tags, '{}'::jsonb) || '{"is_prebuild": "true"}'::jsonb
           FROM x LEFT JOIN ${s}.templates t ON t.id = x.tpl
       ), workspaces AS (
         INSERT INTO ${s}.workspaces (id, organization_id, template_id, owner_id, name, preset_id, latest_build_id,
                                      latest_transition, latest_build_number, latest_version_id, latest_job_status,
                                      created_at, updated_at)
         SELECT x.workspace, x.org, x.tpl, ${this.ns.owner}, x.name, x.preset, x.build, 'start', 1, x.version,
                'pending', x.at, x.at
           FROM x
       ), builds AS (
         INSERT INTO ${s}.workspace_builds (id, workspace_id, build_number, transition, template_version_id,
                                            preset_id, initiator_id, reason, job_id, created_at)
         SELECT x.build, x.workspace, 1, 'start', x.version, x.preset, ${this.ns.owner}, 'prebuild', x.job, x.at
           FROM x
       )
       INSERT INTO ${s}.workspace_build_parameters (build_id, name, value)
       SELECT * FROM unnest($10::uuid[], $11::text[], $12::text[])`,
      [
        prebuilds.map((p) => p.workspaceId),
        prebuilds.map((p) => p.buildId),
        prebuilds.map((p) => p.jobId),
        prebuilds.map((p) => p.organizationId),
        prebuilds.map((p) => p.templateId),
        prebuilds.map((p) => p.presetId),
        prebuilds.map((p) => p.templateVersionId),
        prebuilds.map((p) => p.name),
        prebuilds.map((p) => p.createdAt),
        parameters.map((p) => p.buildId),
        parameters.map((p) => p.name),
        parameters.map((p) => p.value),
      ],
    );
  }

  /**
   * Writes builds of existing workspaces, their jobs and parameters (three statements for any number of builds).
   * Pointing the workspaces at their new latest build is the caller's job (pointLatestBuilds).
   */
  async insertBuilds(manager: EntityManager, builds: NewBuild[]): Promise<void> {
    if (builds.length === 0) return;
    // A job's tags, which a provisioner key must match: its template's provisioner tags, and `is_prebuild` on a
    // prebuild's own builds (so that a pool of daemons can be kept for prebuilds, or away from them).
    // Index: template_versions and templates primary keys.
    await manager.query(
      `INSERT INTO ${this.ns.schema}.provisioner_jobs (id, created_at, updated_at, started_at, completed_at, tags)
       SELECT x.id, x.at, x.at, x.done, x.done,
              ${jobTagsSql(this.ns, `COALESCE(t.provisioner_tags, '{}'::jsonb)`, 'x.initiator')}
         FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::uuid[], $5::text[])
                AS x(id, at, done, version, initiator)
         LEFT JOIN ${this.ns.schema}.template_versions v ON v.id = x.version
         LEFT JOIN ${this.ns.schema}.templates t ON t.id = v.template_id`,
      [
        builds.map((b) => b.jobId),
        builds.map((b) => b.createdAt),
        builds.map((b) => b.completedAt ?? null),
        builds.map((b) => b.templateVersionId),
        builds.map((b) => b.initiatorId),
      ],
    );
    await manager.query(
      `INSERT INTO ${this.ns.schema}.workspace_builds (id, workspace_id, build_number, transition, template_version_id, preset_id,
                                     initiator_id, reason, job_id, created_at)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::uuid[], $6::uuid[], $7::text[],
                            $8::text[], $9::uuid[], $10::timestamptz[])`,
      [
        builds.map((b) => b.id),
        builds.map((b) => b.workspaceId),
        builds.map((b) => b.buildNumber),
        builds.map((b) => b.transition),
        builds.map((b) => b.templateVersionId),
        builds.map((b) => b.presetId),
        builds.map((b) => b.initiatorId),
        builds.map((b) => b.reason),
        builds.map((b) => b.jobId),
        builds.map((b) => b.createdAt),
      ],
    );
    const parameters = builds.flatMap((b) =>
      Object.entries(b.parameters).map(([name, value]) => ({ buildId: b.id, name, value })),
    );
    if (parameters.length > 0) {
      await manager.query(
        `INSERT INTO ${this.ns.schema}.workspace_build_parameters (build_id, name, value)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])`,
        [parameters.map((p) => p.buildId), parameters.map((p) => p.name), parameters.map((p) => p.value)],
      );
    }
  }

  /**
   * Moves existing workspaces' latest-build pointers to builds already written, with the copy of each build's state
   * the snapshot and the claim read (migration 1765600000000-LatestBuildState); `deleted` marks those whose delete
   * needs no provisioner.
   */
  async pointLatestBuilds(
    manager: EntityManager,
    pointers: { workspaceId: string; buildId: string; deleted: boolean }[],
    now: Date,
  ): Promise<void> {
    if (pointers.length === 0) return;
    const s = this.ns.schema;
    await manager.query(
      `UPDATE ${s}.workspaces w
          SET latest_build_id = x.build, deleted = w.deleted OR x.deleted, updated_at = $4,
              latest_transition = b.transition, latest_build_number = b.build_number,
              latest_version_id = b.template_version_id, latest_job_status = j.job_status,
              latest_agents_ready = j.agents_ready
         FROM unnest($1::uuid[], $2::uuid[], $3::bool[]) AS x(id, build, deleted)
         JOIN ${s}.workspace_builds b ON b.id = x.build
         JOIN ${s}.provisioner_jobs j ON j.id = b.job_id
        WHERE w.id = x.id`,
      [
        pointers.map((p) => p.workspaceId),
        pointers.map((p) => p.buildId),
        pointers.map((p) => p.deleted),
        now,
      ],
    );
  }

  /** Locks a live workspace and reads its latest build, for a new build on it. Null when missing or deleted. */
  async lockLiveWorkspace(manager: EntityManager, workspaceId: string): Promise<LiveWorkspace | null> {
    const [row] = await manager.query(
      `SELECT w.id, w.owner_id AS "ownerId", w.template_id AS "templateId", w.preset_id AS "presetId",
              b.build_number AS "latestBuildNumber", b.template_version_id AS "latestVersionId",
              b.preset_id AS "latestPresetId",
              COALESCE((SELECT json_object_agg(bp.name, bp.value) FROM ${this.ns.schema}.workspace_build_parameters bp
                         WHERE bp.build_id = b.id), '{}') AS "latestParameters"
         FROM ${this.ns.schema}.workspaces w JOIN ${this.ns.schema}.workspace_builds b ON b.id = w.latest_build_id
        WHERE w.id = $1 AND NOT w.deleted
          FOR UPDATE OF w`,
      [workspaceId],
    );
    return row ?? null;
  }

  /**
   * Cancels a preset's first start builds on a non-active version, or of a deleted or deprecated template, that no
   * provisioner has acquired: their jobs are
   * marked canceled and completed. SKIP LOCKED leaves a job a provisioner is acquiring right now to that provisioner.
   */
  async cancelPendingNonActive(
    manager: EntityManager,
    presetId: string,
    now: Date,
  ): Promise<CanceledPrebuild[]> {
    return manager.query(
      `WITH doomed AS (
         SELECT w.id AS workspace_id, b.template_version_id, b.build_number, j.id AS job_id
           FROM ${this.ns.schema}.workspaces w
           JOIN ${this.ns.schema}.workspace_builds b ON b.id = w.latest_build_id
           JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = b.job_id
           JOIN ${this.ns.schema}.templates t ON t.id = w.template_id
          WHERE w.owner_id = ${this.ns.owner} AND NOT w.deleted AND b.preset_id = $1
            AND b.build_number = 1 AND b.transition = 'start'
            AND j.started_at IS NULL AND j.canceled_at IS NULL AND j.completed_at IS NULL AND j.worker_id IS NULL
            AND (b.template_version_id <> t.active_version_id OR t.deleted OR t.deprecated <> '')
            FOR UPDATE OF w, j SKIP LOCKED
       ), canceled AS (
         UPDATE ${this.ns.schema}.provisioner_jobs j SET canceled_at = $2, completed_at = $2, updated_at = $2
           FROM doomed WHERE j.id = doomed.job_id
       )
       SELECT workspace_id AS "workspaceId", template_version_id AS "templateVersionId",
              build_number AS "buildNumber"
         FROM doomed`,
      [presetId, now],
    );
  }
}
