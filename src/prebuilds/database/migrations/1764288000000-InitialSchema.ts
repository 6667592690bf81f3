import type { PrebuildsMigration } from './prebuilds-migration.js';

/**
 * The whole domain of DESIGN.md in the module's own schema. Written by hand so that each index can say which query it
 * serves, and so that provisioner_jobs.job_status is a stored generated column: the status is derived from the
 * timestamps in exactly one place, and the snapshot and claim queries can filter and index on it. Owners, initiators,
 * organizations and template ids are the host's opaque text ids: no foreign key leaves the schema.
 */
export const initialSchema: PrebuildsMigration = {
  name: '1764288000000-InitialSchema',

  async up(sql, ns) {
    // The runner has created the schema (its migrations table lives there too).
    const s = ns.schema;
    await sql(`
      CREATE TABLE ${s}.templates (
        -- The host's own id for the template (opaque text: a UUID, a number, a slug).
        id text PRIMARY KEY,
        organization_id text NOT NULL,
        name text NOT NULL,
        active_version_id uuid,
        deleted boolean NOT NULL DEFAULT false,
        deprecated text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await sql(
      `CREATE UNIQUE INDEX uq_templates_org_name ON ${s}.templates (organization_id, lower(name)) WHERE NOT deleted`,
    );
    await sql(`
      CREATE TABLE ${s}.template_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        template_id text NOT NULL REFERENCES ${s}.templates(id) ON DELETE CASCADE,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (template_id, name)
      )`);
    // Deferrable so that a template and its first version can be inserted in one transaction in either order.
    await sql(`
      ALTER TABLE ${s}.templates ADD CONSTRAINT fk_templates_active_version
        FOREIGN KEY (active_version_id) REFERENCES ${s}.template_versions(id) DEFERRABLE INITIALLY DEFERRED`);
    await sql(`
      CREATE TABLE ${s}.template_version_parameters (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        template_version_id uuid NOT NULL REFERENCES ${s}.template_versions(id) ON DELETE CASCADE,
        name text NOT NULL,
        type text NOT NULL DEFAULT 'string' CHECK (type IN ('string', 'number', 'bool')),
        required boolean NOT NULL DEFAULT false,
        default_value text,
        ordinal integer NOT NULL DEFAULT 0,
        UNIQUE (template_version_id, name)
      )`);
    await sql(`
      CREATE TABLE ${s}.template_version_presets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        template_version_id uuid NOT NULL REFERENCES ${s}.template_versions(id) ON DELETE CASCADE,
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
    await sql(
      `CREATE INDEX idx_presets_with_prebuilds ON ${s}.template_version_presets (template_version_id)
         WHERE desired_instances IS NOT NULL`,
    );
    await sql(`
      CREATE TABLE ${s}.template_version_preset_parameters (
        preset_id uuid NOT NULL REFERENCES ${s}.template_version_presets(id) ON DELETE CASCADE,
        name text NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (preset_id, name)
      )`);
    await sql(`
      CREATE TABLE ${s}.prebuild_schedules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        preset_id uuid NOT NULL REFERENCES ${s}.template_version_presets(id) ON DELETE CASCADE,
        ordinal integer NOT NULL,
        cron_expression text NOT NULL,
        desired_instances integer NOT NULL CHECK (desired_instances >= 0),
        UNIQUE (preset_id, ordinal)
      )`);

    await sql(`
      CREATE TABLE ${s}.provisioner_jobs (
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
    await sql(
      `CREATE INDEX idx_jobs_pending ON ${s}.provisioner_jobs (created_at) WHERE started_at IS NULL AND canceled_at IS NULL`,
    );
    // The stale-job sweep (ProvisionerJobRepository.failStaleJobs): running jobs by start time.
    await sql(
      `CREATE INDEX idx_jobs_running ON ${s}.provisioner_jobs (started_at)
         WHERE started_at IS NOT NULL AND completed_at IS NULL`,
    );
    // The snapshot's failure states: only presets with a failed prebuild start are examined.
    await sql(`CREATE INDEX idx_jobs_failed ON ${s}.provisioner_jobs (id) WHERE job_status = 'failed'`);

    await sql(`
      CREATE TABLE ${s}.workspaces (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id text NOT NULL,
        template_id text NOT NULL REFERENCES ${s}.templates(id),
        owner_id text NOT NULL,
        name text NOT NULL,
        -- The preset the workspace was built from (kept across a claim); NULL for a workspace built without one.
        preset_id uuid REFERENCES ${s}.template_version_presets(id) ON DELETE SET NULL,
        -- Denormalised pointer to the newest build, maintained by the builder, so that "latest build" is a join
        -- instead of a DISTINCT ON over every build in the snapshot and claim queries.
        latest_build_id uuid,
        deleted boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
    await sql(
      `CREATE UNIQUE INDEX uq_workspaces_owner_name ON ${s}.workspaces (owner_id, lower(name)) WHERE NOT deleted`,
    );
    // Snapshot (running / in-progress prebuilds) and claim (oldest eligible of a preset): the prebuilds user's live
    // workspaces by preset and age. The owner is the prebuildsOwnerId the schema was created for.
    await sql(
      `CREATE INDEX idx_workspaces_prebuilds ON ${s}.workspaces (preset_id, created_at, id)
         WHERE owner_id = ${ns.owner} AND NOT deleted`,
    );
    await sql(`CREATE INDEX idx_workspaces_template ON ${s}.workspaces (template_id) WHERE NOT deleted`);

    await sql(`
      CREATE TABLE ${s}.workspace_builds (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        workspace_id uuid NOT NULL REFERENCES ${s}.workspaces(id) ON DELETE CASCADE,
        build_number integer NOT NULL,
        transition text NOT NULL CHECK (transition IN ('start', 'stop', 'delete')),
        template_version_id uuid NOT NULL REFERENCES ${s}.template_versions(id),
        preset_id uuid REFERENCES ${s}.template_version_presets(id) ON DELETE SET NULL,
        initiator_id text NOT NULL,
        reason text NOT NULL DEFAULT 'initiator',
        job_id uuid NOT NULL UNIQUE REFERENCES ${s}.provisioner_jobs(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (workspace_id, build_number)
      )`);
    await sql(`
      ALTER TABLE ${s}.workspaces ADD CONSTRAINT fk_workspaces_latest_build
        FOREIGN KEY (latest_build_id) REFERENCES ${s}.workspace_builds(id) DEFERRABLE INITIALLY DEFERRED`);
    // Backoff and hard limit: a preset's prebuild start builds, newest first.
    await sql(
      `CREATE INDEX idx_builds_preset_starts ON ${s}.workspace_builds (preset_id, created_at DESC)
         WHERE transition = 'start' AND initiator_id = ${ns.owner}`,
    );
    await sql(`
      CREATE TABLE ${s}.workspace_build_parameters (
        build_id uuid NOT NULL REFERENCES ${s}.workspace_builds(id) ON DELETE CASCADE,
        name text NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (build_id, name)
      )`);
    await sql(`
      CREATE TABLE ${s}.workspace_agents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        job_id uuid NOT NULL REFERENCES ${s}.provisioner_jobs(id) ON DELETE CASCADE,
        name text NOT NULL DEFAULT 'main',
        lifecycle_state text NOT NULL DEFAULT 'created'
          CHECK (lifecycle_state IN ('created', 'starting', 'ready', 'start_error')),
        created_at timestamptz NOT NULL DEFAULT now(),
        ready_at timestamptz
      )`);
    // Readiness: every agent of a build's job is 'ready'.
    await sql(`CREATE INDEX idx_agents_job ON ${s}.workspace_agents (job_id, lifecycle_state)`);

    await sql(`
      CREATE TABLE ${s}.prebuild_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        preset_id uuid NOT NULL REFERENCES ${s}.template_version_presets(id) ON DELETE CASCADE,
        event_type text NOT NULL CHECK (event_type IN ('claim_succeeded', 'claim_missed')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Per-preset claim windows, and the retention delete (oldest first).
    await sql(`CREATE INDEX idx_prebuild_events_preset ON ${s}.prebuild_events (preset_id, created_at DESC)`);
    await sql(`CREATE INDEX idx_prebuild_events_created ON ${s}.prebuild_events (created_at)`);

    // Cluster-wide settings: exactly one row (the primary key can only be true).
    await sql(`
      CREATE TABLE ${s}.prebuilds_settings (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        reconciliation_paused boolean NOT NULL DEFAULT false,
        last_cycle_completed_at timestamptz,
        last_cycle_duration_ms integer,
        last_cycle_replica text,
        -- The owner id the partial indexes above were built for; the module refuses to start with another.
        prebuilds_owner_id text NOT NULL
      )`);
    await sql(`INSERT INTO ${s}.prebuilds_settings (id, prebuilds_owner_id) VALUES (true, ${ns.owner})`);
  },

  async down(sql, ns) {
    // The schema holds only this module's objects (and its migrations table, which the runner keeps until last).
    const s = ns.schema;
    for (const table of [
      'prebuilds_settings',
      'prebuild_events',
      'workspace_agents',
      'workspace_build_parameters',
      'workspace_builds',
      'workspaces',
      'provisioner_jobs',
      'prebuild_schedules',
      'template_version_preset_parameters',
      'template_version_presets',
      'template_version_parameters',
      'template_versions',
      'templates',
    ]) {
      await sql(`DROP TABLE ${s}.${table} CASCADE`);
    }
  },
};
