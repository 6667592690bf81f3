import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import type { PrebuildStatus } from '../../prebuilds/state/index.js';
import type { ParameterType, PresetSummary } from './templates.types.js';
import type { VersionPlan } from './version-validation.js';

/** Constraints whose violation is a caller's mistake (409/400), not a server error. */
export const TEMPLATE_NAME_CONSTRAINT = 'uq_templates_org_name';
export const VERSION_NAME_CONSTRAINT = 'template_versions_template_id_name_key';
export const TEMPLATE_ORGANIZATION_CONSTRAINT = 'templates_organization_id_fkey';

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

export interface PresetRow {
  id: string;
  name: string;
  desiredInstances: number | null;
  ttlSeconds: number | null;
  timezone: string;
  prebuildStatus: PrebuildStatus;
  lastInvalidatedAt: Date | null;
  parameters: Record<string, string>;
  schedules: { cron: string; instances: number }[];
}

/** Templates, versions, their parameter definitions, presets and schedules: all of the host's template SQL. */
@Injectable()
export class TemplateRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

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
    template: { id: string; organizationId: string; name: string; activeVersionId: string; now: Date },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO templates (id, organization_id, name, active_version_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $5)`,
      [template.id, template.organizationId, template.name, template.activeVersionId, template.now],
    );
  }

  /**
   * Locks a live template against concurrent deletes and activations while a version is added to it (FOR NO KEY
   * UPDATE: it still lets builds and workspaces reference the row). False when it is unknown or deleted.
   */
  async lockLiveTemplate(manager: EntityManager, templateId: string): Promise<boolean> {
    const rows = await manager.query(
      `SELECT 1 FROM templates WHERE id = $1 AND NOT deleted FOR NO KEY UPDATE`,
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
      `INSERT INTO template_versions (id, template_id, name, created_at) VALUES ($1, $2, $3, $4)`,
      [versionId, templateId, plan.name, now],
    );
    const parameters = plan.parameters;
    if (parameters.length > 0) {
      await manager.query(
        `INSERT INTO template_version_parameters (template_version_id, name, type, required, default_value, ordinal)
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
        `INSERT INTO template_version_presets
           (id, template_version_id, name, desired_instances, ttl_seconds, scheduling_timezone, created_at)
         SELECT id, $1::uuid, name, desired, ttl, tz, $7::timestamptz
           FROM unnest($2::uuid[], $3::text[], $4::int[], $5::int[], $6::text[]) AS p(id, name, desired, ttl, tz)`,
        [
          versionId,
          presets.map((p) => p.id),
          presets.map((p) => p.name),
          presets.map((p) => p.desiredInstances),
          presets.map((p) => p.ttlSeconds),
          presets.map((p) => p.timezone),
          now,
        ],
      );
    }
    const values = presets.flatMap((p) =>
      Object.entries(p.parameters).map(([name, value]) => ({ p, name, value })),
    );
    if (values.length > 0) {
      await manager.query(
        `INSERT INTO template_version_preset_parameters (preset_id, name, value)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])`,
        [values.map((v) => v.p.id), values.map((v) => v.name), values.map((v) => v.value)],
      );
    }
    const schedules = presets.flatMap((p) => p.schedules.map((s, ordinal) => ({ p, ordinal, ...s })));
    if (schedules.length > 0) {
      await manager.query(
        `INSERT INTO prebuild_schedules (preset_id, ordinal, cron_expression, desired_instances)
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

  async setActiveVersion(
    manager: EntityManager,
    templateId: string,
    versionId: string,
    now: Date,
  ): Promise<void> {
    await manager.query(`UPDATE templates SET active_version_id = $2, updated_at = $3 WHERE id = $1`, [
      templateId,
      versionId,
      now,
    ]);
  }

  /** A live template with its active version (primary key lookups). */
  async findTemplate(templateId: string): Promise<TemplateRow | null> {
    const [row] = await this.dataSource.query(
      `SELECT t.id, t.name, t.organization_id AS "organizationId", t.deprecated,
              t.created_at AS "createdAt", t.updated_at AS "updatedAt",
              v.id AS "versionId", v.name AS "versionName", v.created_at AS "versionCreatedAt"
         FROM templates t LEFT JOIN template_versions v ON v.id = t.active_version_id
        WHERE t.id = $1 AND NOT t.deleted`,
      [templateId],
    );
    return row ?? null;
  }

  /** Served by uq_templates_org_name (live templates, case-insensitive). */
  async findTemplateIdByName(organizationId: string, name: string): Promise<string | null> {
    const [row] = await this.dataSource.query(
      `SELECT id FROM templates WHERE organization_id = $1 AND lower(name) = lower($2) AND NOT deleted`,
      [organizationId, name],
    );
    return row?.id ?? null;
  }

  /** Served by the unique (template_version_id, name) index. */
  async findParameters(versionId: string): Promise<ParameterRow[]> {
    return this.dataSource.query(
      `SELECT name, type, required, default_value AS "defaultValue"
         FROM template_version_parameters WHERE template_version_id = $1 ORDER BY ordinal, name`,
      [versionId],
    );
  }

  /**
   * A version's presets with their values and schedules aggregated per preset (each subquery is served by the
   * child table's primary key / unique index). Ordered by name: presets carry no ordinal.
   */
  async findPresets(versionId: string): Promise<PresetRow[]> {
    return this.dataSource.query(
      `SELECT p.id, p.name, p.desired_instances AS "desiredInstances", p.ttl_seconds AS "ttlSeconds",
              p.scheduling_timezone AS timezone, p.prebuild_status AS "prebuildStatus",
              p.last_invalidated_at AS "lastInvalidatedAt",
              COALESCE((SELECT json_object_agg(pp.name, pp.value ORDER BY pp.name)
                          FROM template_version_preset_parameters pp WHERE pp.preset_id = p.id), '{}') AS parameters,
              COALESCE((SELECT json_agg(json_build_object('cron', s.cron_expression, 'instances', s.desired_instances)
                                        ORDER BY s.ordinal)
                          FROM prebuild_schedules s WHERE s.preset_id = p.id), '[]') AS schedules
         FROM template_version_presets p
        WHERE p.template_version_id = $1
        ORDER BY p.name`,
      [versionId],
    );
  }

  /** False when the template is unknown or already deleted. */
  async softDelete(templateId: string, now: Date): Promise<boolean> {
    const [rows] = await this.dataSource.query(
      `UPDATE templates SET deleted = true, updated_at = $2 WHERE id = $1 AND NOT deleted RETURNING id`,
      [templateId, now],
    );
    return rows.length > 0;
  }

  /** '' clears the deprecation. False when the template is unknown or deleted. */
  async setDeprecated(templateId: string, message: string, now: Date): Promise<boolean> {
    const [rows] = await this.dataSource.query(
      `UPDATE templates SET deprecated = $2, updated_at = $3 WHERE id = $1 AND NOT deleted RETURNING id`,
      [templateId, message, now],
    );
    return rows.length > 0;
  }
}
