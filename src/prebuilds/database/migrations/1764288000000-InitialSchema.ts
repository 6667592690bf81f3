import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole domain of DESIGN.md. Written by hand (not generated) so that each index can say which query it serves,
 * and so that provisioner_jobs.job_status is a stored generated column: the status is derived from the timestamps
 * in exactly one place, and the snapshot and claim queries can filter and index on it.
 */
export class InitialSchema1764288000000 implements MigrationInterface {
  name = 'InitialSchema1764288000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);

    await q.query(`
      CREATE TABLE organizations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username text NOT NULL UNIQUE,
        roles text[] NOT NULL DEFAULT '{}',
        is_system boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Only the SHA-256 of a token is stored; lookups go through the unique index on the hash.
    await q.query(`
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);

    await q.query(`
      CREATE TABLE templates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id),
        name text NOT NULL,
        active_version_id uuid,
        deleted boolean NOT NULL DEFAULT false,
        deprecated text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX uq_templates_org_name ON templates (organization_id, lower(name)) WHERE NOT deleted`,
    );
    await q.query(`
      CREATE TABLE template_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        template_id uuid NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (template_id, name)
      )`);
    // Deferrable so that a template and its first version can be inserted in one transaction in either order.
    await q.query(`
      ALTER TABLE templates ADD CONSTRAINT fk_templates_active_version
        FOREIGN KEY (active_version_id) REFERENCES template_versions(id) DEFERRABLE INITIALLY DEFERRED`);
    await q.query(`
      CREATE TABLE template_version_parameters (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        template_version_id uuid NOT NULL REFERENCES template_versions(id) ON DELETE CASCADE,
        name text NOT NULL,
        type text NOT NULL DEFAULT 'string' CHECK (type IN ('string', 'number', 'bool')),
        required boolean NOT NULL DEFAULT false,
        default_value text,
        ordinal integer NOT NULL DEFAULT 0,
        UNIQUE (template_version_id, name)
      )`);
    await q.query(`
      CREATE TABLE template_version_presets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        template_version_id uuid NOT NULL REFERENCES template_versions(id) ON DELETE CASCADE,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        desired_instances integer CHECK (desired_instances >= 0),
        ttl_seconds integer CHECK (ttl_seconds >= 0),
        last_invalidated_at timestamptz,
        scheduling_timezone text NOT NULL DEFAULT '',
        prebuild_status text NOT NULL DEFAULT 'healthy'
          CHECK (prebuild_status IN ('healthy', 'hard_limited', 'validation_failed')),
        -- Failures of builds created before this instant no longer count for backoff or the hard limit.
        failure_reset_at timestamptz,
        UNIQUE (template_version_id, name)
      )`);
    // Snapshot query "presets with prebuilds": only presets with a prebuild configuration.
    await q.query(
      `CREATE INDEX idx_presets_with_prebuilds ON template_version_presets (template_version_id)
         WHERE desired_instances IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE template_version_preset_parameters (
        preset_id uuid NOT NULL REFERENCES template_version_presets(id) ON DELETE CASCADE,
        name text NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (preset_id, name)
      )`);
    await q.query(`
      CREATE TABLE prebuild_schedules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        preset_id uuid NOT NULL REFERENCES template_version_presets(id) ON DELETE CASCADE,
        ordinal integer NOT NULL,
        cron_expression text NOT NULL,
        desired_instances integer NOT NULL CHECK (desired_instances >= 0),
        UNIQUE (preset_id, ordinal)
      )`);

    await q.query(`
      CREATE TABLE provisioner_jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type text NOT NULL DEFAULT 'workspace_build',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        completed_at timestamptz,
        canceled_at timestamptz,
        worker_id text,
        error text,
        job_status text GENERATED ALWAYS AS (
          CASE
            WHEN completed_at IS NOT NULL THEN
              CASE WHEN canceled_at IS NOT NULL THEN 'canceled'
                   WHEN error IS NOT NULL THEN 'failed'
                   ELSE 'succeeded' END
            WHEN canceled_at IS NOT NULL THEN 'canceling'
            WHEN started_at IS NOT NULL THEN 'running'
            ELSE 'pending'
          END) STORED
      )`);
    // Job acquisition: the oldest pending job, FOR UPDATE SKIP LOCKED.
    await q.query(
      `CREATE INDEX idx_jobs_pending ON provisioner_jobs (created_at) WHERE started_at IS NULL AND canceled_at IS NULL`,
    );

    await q.query(`
      CREATE TABLE workspaces (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id),
        template_id uuid NOT NULL REFERENCES templates(id),
        owner_id uuid NOT NULL REFERENCES users(id),
        name text NOT NULL,
        -- The preset the workspace was built from (kept across a claim); NULL for a workspace built without one.
        preset_id uuid REFERENCES template_version_presets(id) ON DELETE SET NULL,
        -- Denormalised pointer to the newest build, maintained by the builder, so that "latest build" is a join
        -- instead of a DISTINCT ON over every build in the snapshot and claim queries.
        latest_build_id uuid,
        deleted boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
    await q.query(
      `CREATE UNIQUE INDEX uq_workspaces_owner_name ON workspaces (owner_id, lower(name)) WHERE NOT deleted`,
    );
    // Snapshot (running / in-progress prebuilds) and claim (oldest eligible of a preset): the prebuilds user's live
    // workspaces by preset and age. The owner id is the fixed system user id of the first migration.
    await q.query(
      `CREATE INDEX idx_workspaces_prebuilds ON workspaces (preset_id, created_at, id)
         WHERE owner_id = 'c42fdf75-3097-471c-8c33-fb52454d81c0' AND NOT deleted`,
    );
    await q.query(`CREATE INDEX idx_workspaces_template ON workspaces (template_id) WHERE NOT deleted`);

    await q.query(`
      CREATE TABLE workspace_builds (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        build_number integer NOT NULL,
        transition text NOT NULL CHECK (transition IN ('start', 'stop', 'delete')),
        template_version_id uuid NOT NULL REFERENCES template_versions(id),
        preset_id uuid REFERENCES template_version_presets(id) ON DELETE SET NULL,
        initiator_id uuid NOT NULL REFERENCES users(id),
        reason text NOT NULL DEFAULT 'initiator',
        job_id uuid NOT NULL UNIQUE REFERENCES provisioner_jobs(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (workspace_id, build_number)
      )`);
    await q.query(`
      ALTER TABLE workspaces ADD CONSTRAINT fk_workspaces_latest_build
        FOREIGN KEY (latest_build_id) REFERENCES workspace_builds(id) DEFERRABLE INITIALLY DEFERRED`);
    // Backoff and hard limit: a preset's prebuild start builds, newest first.
    await q.query(
      `CREATE INDEX idx_builds_preset_starts ON workspace_builds (preset_id, created_at DESC)
         WHERE transition = 'start' AND initiator_id = 'c42fdf75-3097-471c-8c33-fb52454d81c0'`,
    );
    await q.query(`
      CREATE TABLE workspace_build_parameters (
        build_id uuid NOT NULL REFERENCES workspace_builds(id) ON DELETE CASCADE,
        name text NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (build_id, name)
      )`);
    await q.query(`
      CREATE TABLE workspace_agents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        job_id uuid NOT NULL REFERENCES provisioner_jobs(id) ON DELETE CASCADE,
        name text NOT NULL DEFAULT 'main',
        lifecycle_state text NOT NULL DEFAULT 'created'
          CHECK (lifecycle_state IN ('created', 'starting', 'ready', 'start_error')),
        created_at timestamptz NOT NULL DEFAULT now(),
        ready_at timestamptz
      )`);
    // Readiness: every agent of a build's job is 'ready'.
    await q.query(`CREATE INDEX idx_agents_job ON workspace_agents (job_id, lifecycle_state)`);

    await q.query(`
      CREATE TABLE prebuild_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        preset_id uuid NOT NULL REFERENCES template_version_presets(id) ON DELETE CASCADE,
        event_type text NOT NULL CHECK (event_type IN ('claim_succeeded', 'claim_missed')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Per-preset claim windows, and the retention delete (oldest first).
    await q.query(`CREATE INDEX idx_prebuild_events_preset ON prebuild_events (preset_id, created_at DESC)`);
    await q.query(`CREATE INDEX idx_prebuild_events_created ON prebuild_events (created_at)`);

    // Cluster-wide settings: exactly one row (the primary key can only be true).
    await q.query(`
      CREATE TABLE prebuilds_settings (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        reconciliation_paused boolean NOT NULL DEFAULT false,
        last_cycle_completed_at timestamptz,
        last_cycle_duration_ms integer,
        last_cycle_replica text
      )`);
    await q.query(`INSERT INTO prebuilds_settings (id) VALUES (true)`);

    await q.query(
      `INSERT INTO organizations (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'default')`,
    );
    await q.query(
      `INSERT INTO users (id, username, roles, is_system)
       VALUES ('c42fdf75-3097-471c-8c33-fb52454d81c0', 'prebuilds', '{}', true)`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'prebuilds_settings',
      'prebuild_events',
      'workspace_agents',
      'workspace_build_parameters',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query(`ALTER TABLE workspaces DROP CONSTRAINT fk_workspaces_latest_build`);
    for (const table of [
      'workspace_builds',
      'workspaces',
      'provisioner_jobs',
      'prebuild_schedules',
      'template_version_preset_parameters',
      'template_version_presets',
      'template_version_parameters',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query(`ALTER TABLE templates DROP CONSTRAINT fk_templates_active_version`);
    for (const table of ['template_versions', 'templates', 'api_tokens', 'users', 'organizations']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
