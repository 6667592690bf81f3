import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { DEFAULT_ORGANIZATION_ID } from '../../src/host/templates/organizations.js';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from '../../src/prebuilds/database/prebuilds-namespace.js';

/**
 * SQL-level factories for reconciler, claim and host tests. They write rows the way the running system would leave
 * them (active version set, latest_build_id maintained, job timestamps that derive the wanted job_status) without
 * going through any service, so a test states the situation it needs in a line. Every timestamp can be given, so
 * tests on a fake clock control ages; when omitted, the database's now() is used. Names default to unique ones
 * because templates, presets and workspaces have unique-name indexes.
 */

export type FixtureTransition = 'start' | 'stop' | 'delete';
export type FixtureJobStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceling' | 'canceled';
export type FixtureAgentState = 'created' | 'starting' | 'ready' | 'start_error';
export type FixturePrebuildStatus = 'healthy' | 'hard_limited' | 'validation_failed';

export interface ParameterFixture {
  name: string;
  type?: 'string' | 'number' | 'bool';
  required?: boolean;
  default?: string;
}

function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

async function insertParameters(
  db: DataSource | EntityManager,
  versionId: string,
  parameters: ParameterFixture[],
): Promise<void> {
  if (parameters.length === 0) return;
  await db.query(
    `INSERT INTO prebuilds.template_version_parameters (template_version_id, name, type, required, default_value, ordinal)
     SELECT $1::uuid, * FROM unnest($2::text[], $3::text[], $4::boolean[], $5::text[], $6::int[])`,
    [
      versionId,
      parameters.map((p) => p.name),
      parameters.map((p) => p.type ?? 'string'),
      parameters.map((p) => p.required ?? false),
      parameters.map((p) => p.default ?? null),
      parameters.map((_, ordinal) => ordinal),
    ],
  );
}

/** A template and its first version, which is active. `deprecated: true` stores a generic message. */
export async function insertTemplate(
  ds: DataSource,
  options: {
    name?: string;
    organizationId?: string;
    deleted?: boolean;
    deprecated?: boolean | string;
    parameters?: ParameterFixture[];
    createdAt?: Date;
  } = {},
): Promise<{ templateId: string; versionId: string }> {
  const templateId = randomUUID();
  const versionId = randomUUID();
  const deprecated =
    options.deprecated === true
      ? 'deprecated (fixture)'
      : options.deprecated === false
        ? ''
        : (options.deprecated ?? '');
  // One transaction: the template points at a version inserted after it (the foreign key is deferred to commit).
  await ds.transaction(async (manager) => {
    await manager.query(
      `INSERT INTO prebuilds.templates (id, organization_id, name, active_version_id, deleted, deprecated, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7::timestamptz, now()), COALESCE($7::timestamptz, now()))`,
      [
        templateId,
        options.organizationId ?? DEFAULT_ORGANIZATION_ID,
        options.name ?? uniqueName('template'),
        versionId,
        options.deleted ?? false,
        deprecated,
        options.createdAt ?? null,
      ],
    );
    await manager.query(
      `INSERT INTO prebuilds.template_versions (id, template_id, name, created_at) VALUES ($1, $2, 'v1', COALESCE($3::timestamptz, now()))`,
      [versionId, templateId, options.createdAt ?? null],
    );
    await insertParameters(manager, versionId, options.parameters ?? []);
  });
  return { templateId, versionId };
}

/** Another version of a template; not active unless `activate`. */
export async function insertVersion(
  ds: DataSource,
  templateId: string,
  options: { name?: string; activate?: boolean; parameters?: ParameterFixture[]; createdAt?: Date } = {},
): Promise<string> {
  const versionId = randomUUID();
  await ds.transaction(async (manager) => {
    await manager.query(
      `INSERT INTO prebuilds.template_versions (id, template_id, name, created_at) VALUES ($1, $2, $3, COALESCE($4::timestamptz, now()))`,
      [versionId, templateId, options.name ?? uniqueName('v'), options.createdAt ?? null],
    );
    await insertParameters(manager, versionId, options.parameters ?? []);
    if (options.activate) {
      await manager.query(`UPDATE prebuilds.templates SET active_version_id = $2 WHERE id = $1`, [
        templateId,
        versionId,
      ]);
    }
  });
  return versionId;
}

export async function setActiveVersion(ds: DataSource, templateId: string, versionId: string): Promise<void> {
  await ds.query(`UPDATE prebuilds.templates SET active_version_id = $2 WHERE id = $1`, [
    templateId,
    versionId,
  ]);
}

/** A preset; `desiredInstances` absent means no prebuilds (NULL), like the column. */
export async function insertPreset(
  ds: DataSource,
  versionId: string,
  options: {
    name?: string;
    desiredInstances?: number | null;
    ttlSeconds?: number | null;
    timezone?: string;
    status?: FixturePrebuildStatus;
    lastInvalidatedAt?: Date | null;
    failureResetAt?: Date | null;
    parameters?: Record<string, string>;
    schedules?: { cron: string; instances: number }[];
    createdAt?: Date;
    /** DESIGN.md rule 12's target expression, stored as given (unchecked, like a host writing the table). */
    instancesExpression?: string | null;
  } = {},
): Promise<string> {
  const presetId = randomUUID();
  const parameters = Object.entries(options.parameters ?? {});
  const schedules = options.schedules ?? [];
  await ds.transaction(async (manager) => {
    await manager.query(
      `INSERT INTO prebuilds.template_version_presets
         (id, template_version_id, name, desired_instances, ttl_seconds, scheduling_timezone, prebuild_status,
          last_invalidated_at, failure_reset_at, created_at, desired_instances_expression)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10::timestamptz, now()), $11)`,
      [
        presetId,
        versionId,
        options.name ?? uniqueName('preset'),
        options.desiredInstances ?? null,
        options.ttlSeconds ?? null,
        options.timezone ?? '',
        options.status ?? 'healthy',
        options.lastInvalidatedAt ?? null,
        options.failureResetAt ?? null,
        options.createdAt ?? null,
        options.instancesExpression ?? null,
      ],
    );
    if (parameters.length > 0) {
      await manager.query(
        `INSERT INTO prebuilds.template_version_preset_parameters (preset_id, name, value)
         SELECT $1::uuid, * FROM unnest($2::text[], $3::text[])`,
        [presetId, parameters.map(([name]) => name), parameters.map(([, value]) => value)],
      );
    }
    if (schedules.length > 0) {
      await manager.query(
        `INSERT INTO prebuilds.prebuild_schedules (preset_id, ordinal, cron_expression, desired_instances)
         SELECT $1::uuid, * FROM unnest($2::int[], $3::text[], $4::int[])`,
        [
          presetId,
          schedules.map((_, ordinal) => ordinal),
          schedules.map((s) => s.cron),
          schedules.map((s) => s.instances),
        ],
      );
    }
  });
  return presetId;
}

export async function insertUser(
  ds: DataSource,
  options: { username?: string; roles?: string[] } = {},
): Promise<string> {
  const [row] = await ds.query(`INSERT INTO users (username, roles) VALUES ($1, $2) RETURNING id`, [
    options.username ?? uniqueName('user'),
    options.roles ?? ['member'],
  ]);
  return row.id;
}

/** A workspace without builds (add them with insertBuild); owned by the prebuilds user unless `ownerId`. */
export async function insertWorkspace(
  ds: DataSource,
  options: {
    templateId: string;
    ownerId?: string;
    presetId?: string | null;
    name?: string;
    createdAt?: Date;
    deleted?: boolean;
  },
): Promise<string> {
  const [row] = await ds.query(
    `INSERT INTO prebuilds.workspaces (organization_id, template_id, owner_id, name, preset_id, deleted, created_at, updated_at)
     SELECT t.organization_id, t.id, $2::text, $3::text, $4::uuid, $5::boolean, COALESCE($6::timestamptz, now()),
            COALESCE($6::timestamptz, now())
       FROM prebuilds.templates t WHERE t.id = $1::text
     RETURNING id`,
    [
      options.templateId,
      options.ownerId ?? PREBUILDS_SYSTEM_USER_ID,
      options.name ?? uniqueName('ws'),
      options.presetId ?? null,
      options.deleted ?? false,
      options.createdAt ?? null,
    ],
  );
  if (!row) throw new Error(`insertWorkspace: template ${options.templateId} does not exist`);
  return row.id;
}

/**
 * The job timestamps whose generated job_status is `status` (the column's CASE, read backwards). Canceling is a
 * cancel request that was not completed; canceled never started, like a pending job canceled before acquisition.
 */
const JOB_TIMESTAMPS: Record<
  FixtureJobStatus,
  { started: boolean; completed: boolean; canceled: boolean; error: boolean }
> = {
  pending: { started: false, completed: false, canceled: false, error: false },
  running: { started: true, completed: false, canceled: false, error: false },
  succeeded: { started: true, completed: true, canceled: false, error: false },
  failed: { started: true, completed: true, canceled: false, error: true },
  canceling: { started: false, completed: false, canceled: true, error: false },
  canceled: { started: false, completed: true, canceled: true, error: false },
};

/**
 * The workspace's next build (number = last + 1) with its provisioner job and agents, made the workspace's latest
 * build; one statement. Agents default to one `ready` agent for a succeeded start and none otherwise. The job's
 * timestamps are all `createdAt` (or now()). A succeeded delete does not mark the workspace deleted: pass
 * `deleted` to insertWorkspace for that.
 */
export async function insertBuild(
  ds: DataSource,
  options: {
    workspaceId: string;
    transition: FixtureTransition;
    jobStatus: FixtureJobStatus;
    templateVersionId: string;
    presetId?: string | null;
    initiatorId?: string;
    reason?: string;
    createdAt?: Date;
    agents?: FixtureAgentState[];
    workerId?: string | null;
    error?: string;
  },
): Promise<{ buildId: string; jobId: string }> {
  const buildId = randomUUID();
  const jobId = randomUUID();
  const t = JOB_TIMESTAMPS[options.jobStatus];
  const agents =
    options.agents ?? (options.transition === 'start' && options.jobStatus === 'succeeded' ? ['ready'] : []);
  // Immediate foreign keys are checked at the end of the whole statement, so the job, the build that references it
  // and the agents can be written by one statement of data-modifying CTEs.
  await ds.query(
    `WITH at AS (SELECT COALESCE($7::timestamptz, now()) AS ts),
     job AS (
       INSERT INTO prebuilds.provisioner_jobs (id, created_at, updated_at, started_at, completed_at, canceled_at, error, worker_id)
       SELECT $2::uuid, ts, ts, CASE WHEN $8::boolean THEN ts END, CASE WHEN $9::boolean THEN ts END,
              CASE WHEN $10::boolean THEN ts END, CASE WHEN $11::boolean THEN $12::text END, $13::text
         FROM at
     ),
     build AS (
       INSERT INTO prebuilds.workspace_builds
         (id, workspace_id, build_number, transition, template_version_id, preset_id, initiator_id, reason, job_id, created_at)
       SELECT $1::uuid, $3::uuid,
              COALESCE((SELECT max(build_number) FROM prebuilds.workspace_builds WHERE workspace_id = $3::uuid), 0) + 1,
              $4::text, $5::uuid, $6::uuid, $14::text, $15::text, $2::uuid, ts
         FROM at
     ),
     latest AS (UPDATE prebuilds.workspaces SET latest_build_id = $1::uuid WHERE id = $3::uuid)
     INSERT INTO prebuilds.workspace_agents (job_id, lifecycle_state, created_at, ready_at)
     SELECT $2::uuid, state, ts, CASE WHEN state = 'ready' THEN ts END FROM unnest($16::text[]) AS state, at`,
    [
      buildId,
      jobId,
      options.workspaceId,
      options.transition,
      options.templateVersionId,
      options.presetId ?? null,
      options.createdAt ?? null,
      t.started,
      t.completed,
      t.canceled,
      t.error,
      options.error ?? 'build failed (fixture)',
      options.workerId ?? null,
      options.initiatorId ?? PREBUILDS_SYSTEM_USER_ID,
      options.reason ?? 'initiator',
      agents,
    ],
  );
  return { buildId, jobId };
}

/**
 * A prebuild in one line: a workspace of the prebuilds user with one build. A succeeded start has one agent,
 * `ready` unless `ready: false` (then `starting`, so the prebuild runs but is not eligible).
 */
export async function insertPrebuild(
  ds: DataSource,
  options: {
    templateId: string;
    versionId: string;
    presetId: string;
    transition?: FixtureTransition;
    jobStatus?: FixtureJobStatus;
    ready?: boolean;
    createdAt?: Date;
    name?: string;
  },
): Promise<string> {
  const transition = options.transition ?? 'start';
  const jobStatus = options.jobStatus ?? 'succeeded';
  const workspaceId = await insertWorkspace(ds, {
    templateId: options.templateId,
    presetId: options.presetId,
    createdAt: options.createdAt,
    name: options.name,
  });
  await insertBuild(ds, {
    workspaceId,
    transition,
    jobStatus,
    templateVersionId: options.versionId,
    presetId: options.presetId,
    createdAt: options.createdAt,
    ...(transition === 'start' && jobStatus === 'succeeded' && options.ready === false
      ? { agents: ['starting'] }
      : {}),
  });
  return workspaceId;
}
