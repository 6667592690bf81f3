import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DEFAULT_ORGANIZATION_ID } from '../../src/host/templates/organizations.js';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from '../../src/prebuilds/database/prebuilds-namespace.js';
import type { Transition } from '../../src/prebuilds/state/types.js';

/** Plain-SQL rows for provisioner tests: a template with one version and workspaces whose builds carry jobs. */
export interface TemplateRows {
  templateId: string;
  versionId: string;
  presetId: string;
}

export async function insertTemplateRows(ds: DataSource): Promise<TemplateRows> {
  const templateId = randomUUID();
  const versionId = randomUUID();
  const presetId = randomUUID();
  await ds.transaction(async (m) => {
    await m.query(
      `INSERT INTO prebuilds.templates (id, organization_id, name, active_version_id) VALUES ($1, $2, $3, $4)`,
      [templateId, DEFAULT_ORGANIZATION_ID, `tpl-${templateId.slice(0, 8)}`, versionId],
    );
    await m.query(`INSERT INTO prebuilds.template_versions (id, template_id, name) VALUES ($1, $2, 'v1')`, [
      versionId,
      templateId,
    ]);
    await m.query(
      `INSERT INTO prebuilds.template_version_presets (id, template_version_id, name, desired_instances) VALUES ($1, $2, 'p', 1)`,
      [presetId, versionId],
    );
  });
  return { templateId, versionId, presetId };
}

export interface JobRowOptions {
  transition?: Transition;
  createdAt?: Date;
  startedAt?: Date | null;
  completedAt?: Date | null;
  canceledAt?: Date | null;
  parameters?: Record<string, string>;
  /** The build's initiator (default the prebuilds owner: a prebuild job); another id makes it a user job. */
  initiatorId?: string;
}

export interface JobRows {
  workspaceId: string;
  buildId: string;
  jobId: string;
}

/** A prebuild workspace whose only (and latest) build has a job in the given state; pending by default. */
export async function insertWorkspaceWithJob(
  ds: DataSource,
  template: TemplateRows,
  options: JobRowOptions = {},
): Promise<JobRows> {
  const workspaceId = randomUUID();
  const buildId = randomUUID();
  const jobId = randomUUID();
  const createdAt = options.createdAt ?? new Date('2026-01-01T00:00:00Z');
  await ds.transaction(async (m) => {
    await m.query(
      `INSERT INTO prebuilds.provisioner_jobs (id, created_at, updated_at, started_at, completed_at, canceled_at)
       VALUES ($1, $2, $2, $3, $4, $5)`,
      [jobId, createdAt, options.startedAt ?? null, options.completedAt ?? null, options.canceledAt ?? null],
    );
    await m.query(
      `INSERT INTO prebuilds.workspaces (id, organization_id, template_id, owner_id, name, preset_id, latest_build_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        workspaceId,
        DEFAULT_ORGANIZATION_ID,
        template.templateId,
        PREBUILDS_SYSTEM_USER_ID,
        `ws-${workspaceId.slice(0, 8)}`,
        template.presetId,
        buildId,
        createdAt,
      ],
    );
    await m.query(
      `INSERT INTO prebuilds.workspace_builds (id, workspace_id, build_number, transition, template_version_id, preset_id,
                                     initiator_id, job_id, created_at)
       VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8)`,
      [
        buildId,
        workspaceId,
        options.transition ?? 'start',
        template.versionId,
        template.presetId,
        options.initiatorId ?? PREBUILDS_SYSTEM_USER_ID,
        jobId,
        createdAt,
      ],
    );
    for (const [name, value] of Object.entries(options.parameters ?? {})) {
      await m.query(
        `INSERT INTO prebuilds.workspace_build_parameters (build_id, name, value) VALUES ($1, $2, $3)`,
        [buildId, name, value],
      );
    }
  });
  return { workspaceId, buildId, jobId };
}

export async function jobRow(
  ds: DataSource,
  jobId: string,
): Promise<{
  status: string;
  error: string | null;
  workerId: string | null;
  completedAt: Date | null;
  attempts: number;
  failureKind: string | null;
}> {
  const [row] = await ds.query(
    `SELECT job_status AS status, error, worker_id AS "workerId", completed_at AS "completedAt", attempts,
            failure_kind AS "failureKind"
       FROM prebuilds.provisioner_jobs WHERE id = $1`,
    [jobId],
  );
  return row;
}

export async function agentRows(
  ds: DataSource,
  jobId: string,
): Promise<{ id: string; lifecycleState: string; readyAt: Date | null }[]> {
  return ds.query(
    `SELECT id, lifecycle_state AS "lifecycleState", ready_at AS "readyAt" FROM prebuilds.workspace_agents WHERE job_id = $1`,
    [jobId],
  );
}
