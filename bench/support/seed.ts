import type pg from 'pg';
import { DEFAULT_ORGANIZATION_ID } from '../../src/host/templates/organizations.js';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from 'nest-prebuilds';

/** A warm pool as a long-running deployment leaves it, written set-based (generate_series), never row by row. */
export interface PoolSeed {
  /** Prefixes template, workspace and user names; unique per seed within one database. */
  label: string;
  templates: number;
  presetsPerTemplate: number;
  desired: number;
  /** Running, ready (every agent ready) prebuilds per active preset. */
  running: number;
  /** Deleted prebuilds per active preset (a start and a delete build each): history the queries must skip. */
  deletedHistory: number;
  /** Each template also keeps a previous version whose presets still want prebuilds but have none alive. */
  oldVersion: boolean;
  /** Every Nth preset has a schedule that asks for `desired` at all hours (0: no schedules). */
  scheduleEvery: number;
  /** Rows are dated before this instant. */
  now: Date;
}

export interface SeededPreset {
  presetId: string;
  templateId: string;
}

/**
 * Writes templates (one required parameter per version), presets with their parameter value, schedules, and
 * prebuilds with builds, succeeded jobs, build parameters and ready agents, in one transaction, then VACUUM ANALYZE
 * so that the planner sees statistics, as autovacuum would give a real database. Returns the active presets in
 * creation order. The values are the bench's own (no user input), so they are written into the SQL directly.
 */
export async function seedPools(client: pg.Client, seed: PoolSeed): Promise<SeededPreset[]> {
  if (!/^[a-z0-9_]+$/.test(seed.label)) throw new Error(`seed label ${seed.label} must be [a-z0-9_]+`);
  const now = `'${seed.now.toISOString()}'::timestamptz`;
  const label = `'${seed.label}'`;
  const org = `'${DEFAULT_ORGANIZATION_ID}'::text`;
  const system = `'${PREBUILDS_SYSTEM_USER_ID}'::text`;
  const every = Math.trunc(seed.scheduleEvery);
  const statements = [
    `CREATE TEMP TABLE seed_templates ON COMMIT DROP AS
       SELECT gen_random_uuid()::text AS id, gen_random_uuid() AS active_version, gen_random_uuid() AS old_version, n
         FROM generate_series(1, ${Math.trunc(seed.templates)}) n`,
    `INSERT INTO prebuilds.templates (id, organization_id, name, active_version_id, created_at, updated_at)
       SELECT id, ${org}, ${label} || '-tpl-' || n, active_version, ${now} - interval '30 days',
              ${now} - interval '30 days'
         FROM seed_templates`,
    `CREATE TEMP TABLE seed_versions ON COMMIT DROP AS
       SELECT active_version AS id, id AS template_id, true AS active FROM seed_templates
       UNION ALL
       SELECT old_version, id, false FROM seed_templates WHERE ${seed.oldVersion}`,
    `INSERT INTO prebuilds.template_versions (id, template_id, name, created_at)
       SELECT id, template_id, CASE WHEN active THEN 'v2' ELSE 'v1' END,
              ${now} - CASE WHEN active THEN interval '1 day' ELSE interval '30 days' END
         FROM seed_versions`,
    `INSERT INTO prebuilds.template_version_parameters (template_version_id, name, type, required, ordinal)
       SELECT id, 'region', 'string', true, 0 FROM seed_versions`,
    `CREATE TEMP TABLE seed_presets ON COMMIT DROP AS
       SELECT gen_random_uuid() AS id, v.id AS version_id, v.template_id, v.active, n,
              row_number() OVER (ORDER BY v.active DESC, v.template_id, n) AS seq
         FROM seed_versions v CROSS JOIN generate_series(1, ${Math.trunc(seed.presetsPerTemplate)}) n`,
    `INSERT INTO prebuilds.template_version_presets
       (id, template_version_id, name, desired_instances, scheduling_timezone, created_at)
       SELECT id, version_id, 'preset-' || n, ${Math.trunc(seed.desired)},
              CASE WHEN ${every} > 0 AND seq % ${Math.max(every, 1)} = 0 THEN 'UTC' ELSE '' END,
              ${now} - interval '1 day'
         FROM seed_presets`,
    `INSERT INTO prebuilds.template_version_preset_parameters (preset_id, name, value)
       SELECT id, 'region', 'eu' FROM seed_presets`,
    `INSERT INTO prebuilds.prebuild_schedules (preset_id, ordinal, cron_expression, desired_instances)
       SELECT id, 0, '* 0-23 * * 0-6', ${Math.trunc(seed.desired)}
         FROM seed_presets WHERE ${every} > 0 AND seq % ${Math.max(every, 1)} = 0`,
    `CREATE TEMP TABLE seed_workspaces ON COMMIT DROP AS
       SELECT gen_random_uuid() AS id, gen_random_uuid() AS start_build, gen_random_uuid() AS start_job,
              gen_random_uuid() AS delete_build, gen_random_uuid() AS delete_job,
              p.id AS preset_id, p.version_id, p.template_id, i > ${Math.trunc(seed.running)} AS deleted,
              ${now} - interval '1 hour' - make_interval(secs => (row_number() OVER ())::float8) AS created_at,
              row_number() OVER () AS seq
         FROM seed_presets p
        CROSS JOIN generate_series(1, ${Math.trunc(seed.running + seed.deletedHistory)}) i
        WHERE p.active`,
    // Readiness and the workspaces' copy of their latest build are written as their triggers would leave them, so
    // that seeding a million prebuilds does not run those triggers row by row.
    `INSERT INTO prebuilds.provisioner_jobs (id, created_at, updated_at, started_at, completed_at, agents_ready)
       SELECT start_job, created_at, created_at + interval '2 minutes', created_at + interval '5 seconds',
              created_at + interval '2 minutes', NOT deleted
         FROM seed_workspaces
       UNION ALL
       SELECT delete_job, created_at + interval '10 minutes', created_at + interval '11 minutes',
              created_at + interval '10 minutes', created_at + interval '11 minutes', false
         FROM seed_workspaces WHERE deleted`,
    `INSERT INTO prebuilds.workspaces
       (id, organization_id, template_id, owner_id, name, preset_id, latest_build_id, deleted, created_at, updated_at,
        latest_transition, latest_build_number, latest_version_id, latest_job_status, latest_agents_ready)
       SELECT id, ${org}, template_id, ${system}, ${label} || '-pb-' || seq, preset_id,
              CASE WHEN deleted THEN delete_build ELSE start_build END, deleted, created_at, created_at,
              CASE WHEN deleted THEN 'delete' ELSE 'start' END, CASE WHEN deleted THEN 2 ELSE 1 END, version_id,
              'succeeded', NOT deleted
         FROM seed_workspaces`,
    `INSERT INTO prebuilds.workspace_builds
       (id, workspace_id, build_number, transition, template_version_id, preset_id, initiator_id, reason, job_id,
        created_at)
       SELECT start_build, id, 1, 'start', version_id, preset_id, ${system}, 'prebuild', start_job, created_at
         FROM seed_workspaces
       UNION ALL
       SELECT delete_build, id, 2, 'delete', version_id, preset_id, ${system}, 'prebuild', delete_job,
              created_at + interval '10 minutes'
         FROM seed_workspaces WHERE deleted`,
    `INSERT INTO prebuilds.workspace_build_parameters (build_id, name, value)
       SELECT start_build, 'region', 'eu' FROM seed_workspaces`,
    `INSERT INTO prebuilds.workspace_agents (job_id, lifecycle_state, created_at, ready_at)
       SELECT start_job, 'ready', created_at + interval '1 minute', created_at + interval '2 minutes'
         FROM seed_workspaces WHERE NOT deleted`,
  ];
  await client.query('BEGIN');
  try {
    for (const sql of statements) await client.query(sql);
    const { rows } = await client.query<SeededPreset>(
      `SELECT id AS "presetId", template_id AS "templateId" FROM seed_presets WHERE active ORDER BY seq`,
    );
    await client.query('COMMIT');
    await client.query('VACUUM ANALYZE');
    return rows;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Members who claim: one per concurrent claimer, so that each can reuse its own workspace names. */
export async function seedUsers(client: pg.Client, label: string, count: number): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO users (username, roles)
     SELECT $1 || '-user-' || n, '{member}' FROM generate_series(1, $2::int) n
     RETURNING id`,
    [label, count],
  );
  return rows.map((row) => row.id);
}
