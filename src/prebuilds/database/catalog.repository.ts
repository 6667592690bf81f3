import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { type DataSource, type EntityManager, QueryFailedError } from 'typeorm';
import type { ParameterType, PresetSummary, VersionPlan } from './catalog-rows.js';
import type { PrebuildStatus } from '../state/types.js';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

/** Constraints whose violation is a caller's mistake (409/400), not a server error. */
export const TEMPLATE_NAME_CONSTRAINT = 'uq_templates_org_name';
export const VERSION_NAME_CONSTRAINT = 'template_versions_template_id_name_key';
export const TEMPLATE_ID_CONSTRAINT = 'templates_pkey';

/** The constraint a failed statement violated, for the unique (23505) and foreign key (23503) classes only. */
export function violatedConstraint(error: unknown): string | null {
  if (!(error instanceof QueryFailedError)) return null;
  const { code, constraint } = error.driverError as { code?: string; constraint?: string };
  return code === '23505' || code === '23503' ? (constraint ?? null) : null;
}

export interface TemplateRow {
  id: string;
  name: string;
  organizationId: string;
  deprecated: string;
  createdAt: Date;
  updatedAt: Date;
  versionId: string | null;
  versionName: string | null;
  versionCreatedAt: Date | null;
}

export interface ParameterRow {
  name: string;
  type: ParameterType;
  required: boolean;
  defaultValue: string | null;
}

export interface CatalogPresetRow {
  id: string;
  name: string;
  desiredInstances: number | null;
  ttlSeconds: number | null;
  timezone: string;
  instancesExpression: string | null;
  prebuildStatus: PrebuildStatus;
  lastInvalidatedAt: Date | null;
  parameters: Record<string, string>;
  schedules: { cron: string; instances: number }[];
}

/** A template's organization, active version and deletion flag, as a build on one of its workspaces reads it. */
export interface TemplateState {
  organizationId: string;
  activeVersionId: string | null;
  deleted: boolean;
}

/** A preset with its version and its template's active version (ClaimService resolving a named preset). */
export interface PresetOfTemplate {
  presetId: string;
  templateVersionId: string;
  activeVersionId: string | null;
}

/**
 * Templates, versions, their parameter definitions, presets and schedules: the catalog's SQL, and the one home of
 * template lookups (the other repositories only join templates into their own statements; the claim pool's
 * statements are ClaimRepository's).
 */
@Injectable()
export class CatalogRepository {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * The template row pointing at a version that is inserted next: fk_templates_active_version is deferred to
   * commit, so the pair can be written in this order, which checks the name and organization before any version
   * work is done.
   */
  async insertTemplate(
    manager: EntityManager,
    template: {
      id: string;
      organizationId: string;
      name: string;
      activeVersionId: string;
      provisionerTags?: Record<string, string>;
      now: Date;
    },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO ${this.ns.schema}.templates (id, organization_id, name, active_version_id, provisioner_tags,
                                               created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6)`,
      [
        template.id,
        template.organizationId,
        template.name,
        template.activeVersionId,
        JSON.stringify(template.provisionerTags ?? {}),
        template.now,
      ],
    );
  }

  /**
   * Locks a live template against concurrent deletes and activations while a version is added to it (FOR NO KEY
   * UPDATE: it still lets builds and workspaces reference the row). False when it is unknown or deleted.
   */
  async lockLiveTemplate(manager: EntityManager, templateId: string): Promise<boolean> {
    const rows = await manager.query(
      `SELECT 1 FROM ${this.ns.schema}.templates WHERE id = $1 AND NOT deleted FOR NO KEY UPDATE`,
      [templateId],
    );
    return rows.length > 0;
  }

  /**
   * A version with everything under it, one multi-row statement per table (ids are made here so that child rows
   * can name their parents without a round trip). Returns the presets in input order.
   */
  async insertVersion(
    manager: EntityManager,
    templateId: string,
    versionId: string,
    plan: VersionPlan,
    now: Date,
  ): Promise<PresetSummary[]> {
    await manager.query(
      `INSERT INTO ${this.ns.schema}.template_versions (id, template_id, name, created_at) VALUES ($1, $2, $3, $4)`,
      [versionId, templateId, plan.name, now],
    );
    const parameters = plan.parameters;
    if (parameters.length > 0) {
      await manager.query(
        `INSERT INTO ${this.ns.schema}.template_version_parameters (template_version_id, name, type, required, default_value, ordinal)
         SELECT $1::uuid, * FROM unnest($2::text[], $3::text[], $4::boolean[], $5::text[], $6::int[])`,
        [
          versionId,
          parameters.map((p) => p.name),
          parameters.map((p) => p.type),
          parameters.map((p) => p.required),
          parameters.map((p) => p.defaultValue),
          parameters.map((p) => p.ordinal),
        ],
      );
    }
    const presets = plan.presets.map((preset) => ({ ...preset, id: randomUUID() }));
    if (presets.length > 0) {
      await manager.query(
        `INSERT INTO ${this.ns.schema}.template_version_presets
           (id, template_version_id, name, desired_instances, ttl_seconds, scheduling_timezone,
            desired_instances_expression, created_at)
         SELECT id, $1::uuid, name, desired, ttl, tz, expr, $7::timestamptz
           FROM unnest($2::uuid[], $3::text[], $4::int[], $5::int[], $6::text[], $8::text[])
                  AS p(id, name, desired, ttl, tz, expr)`,
        [
          versionId,
          presets.map((p) => p.id),
          presets.map((p) => p.name),
          presets.map((p) => p.desiredInstances),
          presets.map((p) => p.ttlSeconds),
          presets.map((p) => p.timezone),
          now,
          presets.map((p) => p.expression),
        ],
      );
    }
    const values = presets.flatMap((p) =>
      Object.entries(p.parameters).map(([name, value]) => ({ p, name, value })),
    );
    if (values.length > 0) {
      await manager.query(
        `INSERT INTO ${this.ns.schema}.template_version_preset_parameters (preset_id, name, value)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])`,
        [values.map((v) => v.p.id), values.map((v) => v.name), values.map((v) => v.value)],
      );
    }
    const schedules = presets.flatMap((p) => p.schedules.map((s, ordinal) => ({ p, ordinal, ...s })));
    if (schedules.length > 0) {
      await manager.query(
        `INSERT INTO ${this.ns.schema}.prebuild_schedules (preset_id, ordinal, cron_expression, desired_instances)
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[])`,
        [
          schedules.map((s) => s.p.id),
          schedules.map((s) => s.ordinal),
          schedules.map((s) => s.cron),
          schedules.map((s) => s.instances),
        ],
      );
    }
    return presets.map(({ id, name }) => ({ id, name }));
  }

  /** Points a template at one of its own versions. False when the version is not the template's. */
  async setActiveVersion(
    manager: EntityManager,
    templateId: string,
    versionId: string,
    now: Date,
  ): Promise<boolean> {
    const [rows] = await manager.query(
      `UPDATE ${this.ns.schema}.templates t SET active_version_id = v.id, updated_at = $3
         FROM ${this.ns.schema}.template_versions v
        WHERE t.id = $1 AND v.id = $2 AND v.template_id = t.id
        RETURNING t.id`,
      [templateId, versionId, now],
    );
    return rows.length > 0;
  }

  /**
   * Sets a preset's base instance count (null: no prebuilds). Returns its template id, or null for an unknown preset
   * (or one of a deleted template).
   */
  setPresetInstances(presetId: string, instances: number | null): Promise<string | null> {
    return this.updateLivePreset(presetId, 'desired_instances', instances);
  }

  /** Sets a preset's target expression (null: none). Its template id, or null as setPresetInstances. */
  setPresetExpression(presetId: string, expression: string | null): Promise<string | null> {
    return this.updateLivePreset(presetId, 'desired_instances_expression', expression);
  }

  /** One column of a preset of a live template; the column is one of ours, never input. */
  private async updateLivePreset(
    presetId: string,
    column: 'desired_instances' | 'desired_instances_expression',
    value: number | string | null,
  ): Promise<string | null> {
    const [rows] = await this.dataSource.query(
      `UPDATE ${this.ns.schema}.template_version_presets p SET ${column} = $2
         FROM ${this.ns.schema}.template_versions v JOIN ${this.ns.schema}.templates t ON t.id = v.template_id
        WHERE p.id = $1 AND v.id = p.template_version_id AND NOT t.deleted
        RETURNING t.id AS "templateId"`,
      [presetId, value],
    );
    return rows[0]?.templateId ?? null;
  }

  /**
   * The template's provisioner tags, and those of its jobs no provisioner has taken yet (a prebuild's keep their
   * `is_prebuild`). Null when the template is unknown or deleted; else how many jobs were retagged.
   */
  async setProvisionerTags(
    manager: EntityManager,
    templateId: string,
    tags: Record<string, string>,
    now: Date,
  ): Promise<number | null> {
    const [, updated] = await manager.query(
      `UPDATE ${this.ns.schema}.templates SET provisioner_tags = $2::jsonb, updated_at = $3
        WHERE id = $1 AND NOT deleted`,
      [templateId, JSON.stringify(tags), now],
    );
    if (!updated) return null;
    const [, retagged] = await manager.query(
      `UPDATE ${this.ns.schema}.provisioner_jobs j
          SET tags = $2::jsonb || CASE WHEN j.tags ? 'is_prebuild'
                                       THEN jsonb_build_object('is_prebuild', j.tags->'is_prebuild')
                                       ELSE '{}'::jsonb END,
              updated_at = $3
         FROM ${this.ns.schema}.workspace_builds b JOIN ${this.ns.schema}.workspaces w ON w.id = b.workspace_id
        WHERE b.job_id = j.id AND w.template_id = $1
          AND j.started_at IS NULL AND j.completed_at IS NULL AND j.canceled_at IS NULL AND j.worker_id IS NULL`,
      [templateId, JSON.stringify(tags), now],
    );
    return retagged ?? 0;
  }

  /** A live template with its active version (primary key lookups). */
  async findTemplate(templateId: string): Promise<TemplateRow | null> {
    const [row] = await this.dataSource.query(
      `SELECT t.id, t.name, t.organization_id AS "organizationId", t.deprecated,
              t.created_at AS "createdAt", t.updated_at AS "updatedAt",
              v.id AS "versionId", v.name AS "versionName", v.created_at AS "versionCreatedAt"
         FROM ${this.ns.schema}.templates t LEFT JOIN ${this.ns.schema}.template_versions v ON v.id = t.active_version_id
        WHERE t.id = $1 AND NOT t.deleted`,
      [templateId],
    );
    return row ?? null;
  }

  /**
   * Any template's organization, active version and deletion flag (primary key lookup), deleted ones included,
   * inside the caller's build transaction; null when absent. findTemplate is the live-only view for the API.
   */
  async findTemplateState(manager: EntityManager, templateId: string): Promise<TemplateState | null> {
    const [row] = await manager.query(
      `SELECT organization_id AS "organizationId", active_version_id AS "activeVersionId", deleted
         FROM ${this.ns.schema}.templates WHERE id = $1`,
      [templateId],
    );
    return row ?? null;
  }

  /** Whether a template row exists (soft-deleted ones included: their prebuilds still get reconciled away). */
  async templateExists(templateId: string): Promise<boolean> {
    const rows = await this.dataSource.query(`SELECT 1 FROM ${this.ns.schema}.templates WHERE id = $1`, [
      templateId,
    ]);
    return rows.length > 0;
  }

  /** A preset with its version and the template's active version; null when it is not one of the template's. */
  async findPresetOfTemplate(templateId: string, presetId: string): Promise<PresetOfTemplate | null> {
    const [row] = await this.dataSource.query(
      `SELECT p.id AS "presetId", p.template_version_id AS "templateVersionId", t.active_version_id AS "activeVersionId"
         FROM ${this.ns.schema}.template_version_presets p
         JOIN ${this.ns.schema}.template_versions v ON v.id = p.template_version_id
         JOIN ${this.ns.schema}.templates t ON t.id = v.template_id
        WHERE p.id = $2 AND t.id = $1`,
      [templateId, presetId],
    );
    return row ?? null;
  }

  /** Served by uq_templates_org_name (live templates, case-insensitive). */
  async findTemplateIdByName(organizationId: string, name: string): Promise<string | null> {
    const [row] = await this.dataSource.query(
      `SELECT id FROM ${this.ns.schema}.templates WHERE organization_id = $1 AND lower(name) = lower($2) AND NOT deleted`,
      [organizationId, name],
    );
    return row?.id ?? null;
  }

  /** A version's parameter definitions in declaration order. Served by the unique (template_version_id, name) index. */
  async findParameters(manager: EntityManager, versionId: string): Promise<ParameterRow[]> {
    return manager.query(
      `SELECT name, type, required, default_value AS "defaultValue"
         FROM ${this.ns.schema}.template_version_parameters WHERE template_version_id = $1 ORDER BY ordinal, name`,
      [versionId],
    );
  }

  /** findParameters by itself, outside any transaction (reading the catalog). */
  findParametersAlone(versionId: string): Promise<ParameterRow[]> {
    return this.findParameters(this.dataSource.manager, versionId);
  }

  /**
   * A version's presets with their values and schedules aggregated per preset (each subquery is served by the
   * child table's primary key / unique index). Ordered by name: presets carry no ordinal.
   */
  async findPresets(versionId: string): Promise<CatalogPresetRow[]> {
    return this.dataSource.query(
      `SELECT p.id, p.name, p.desired_instances AS "desiredInstances", p.ttl_seconds AS "ttlSeconds",
              p.scheduling_timezone AS timezone, p.desired_instances_expression AS "instancesExpression",
              p.prebuild_status AS "prebuildStatus",
              p.last_invalidated_at AS "lastInvalidatedAt",
              COALESCE((SELECT json_object_agg(pp.name, pp.value ORDER BY pp.name)
                          FROM ${this.ns.schema}.template_version_preset_parameters pp WHERE pp.preset_id = p.id), '{}') AS parameters,
              COALESCE((SELECT json_agg(json_build_object('cron', s.cron_expression, 'instances', s.desired_instances)
                                        ORDER BY s.ordinal)
                          FROM ${this.ns.schema}.prebuild_schedules s WHERE s.preset_id = p.id), '[]') AS schedules
         FROM ${this.ns.schema}.template_version_presets p
        WHERE p.template_version_id = $1
        ORDER BY p.name`,
      [versionId],
    );
  }

  /** False when the template is unknown or already deleted. */
  async softDelete(templateId: string, now: Date): Promise<boolean> {
    const [rows] = await this.dataSource.query(
      `UPDATE ${this.ns.schema}.templates SET deleted = true, updated_at = $2 WHERE id = $1 AND NOT deleted RETURNING id`,
      [templateId, now],
    );
    return rows.length > 0;
  }

  /** '' clears the deprecation. False when the template is unknown or deleted. */
  async setDeprecated(templateId: string, message: string, now: Date): Promise<boolean> {
    const [rows] = await this.dataSource.query(
      `UPDATE ${this.ns.schema}.templates SET deprecated = $2, updated_at = $3 WHERE id = $1 AND NOT deleted RETURNING id`,
      [templateId, message, now],
    );
    return rows.length > 0;
  }
}
