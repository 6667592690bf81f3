import type { PrebuildsMigration } from './prebuilds-migration.js';

/**
 * The latest build's state on its workspace: `latest_transition`, `latest_build_number`, `latest_version_id`,
 * `latest_job_status` and `latest_agents_ready` copy the build that `latest_build_id` points to and its job, so that the
 * reconcile snapshot, the claim and the status read one table instead of joining every live workspace to its build
 * and job (at 10k presets / 100k prebuilds those two hash joins were two thirds of the snapshot's summary).
 *
 * The module's writers set them with the pointer (a new build's job is pending; pointLatestBuilds copies the rows it
 * points to), so that neither a claim nor a fill batch pays a trigger's lookup per row (a row trigger on the insert
 * made the fill of 5,000 prebuilds 3× slower). Three triggers keep the copy true whoever else writes:
 *  - on workspaces, before a pointer moves without the copy: copy the build and job it points to, when they exist
 *    yet (a build written later in the transaction, or by a sibling CTE of the same statement, does not);
 *  - on workspace_builds, after an insert: copy the new builds into the workspaces already pointing at them, where
 *    anything differs (a writer that set the values costs one probe per statement, not a new row version);
 *  - on provisioner_jobs, after a job's status or readiness changes: copy them into the live workspace whose latest
 *    build is that job's.
 * A pointer only ever moves to a build its own transaction wrote, so no other transaction can change that build's job
 * before the pointer commits; a job update racing a pointer move is re-checked by PostgreSQL against the moved row
 * (its `latest_build_id = b.id` no longer holds) and skips it. Deleted workspaces are left as they were.
 */
export const latestBuildState: PrebuildsMigration = {
  name: '1765600000000-LatestBuildState',

  async up(sql, ns) {
    const s = ns.schema;
    await sql(`ALTER TABLE ${s}.workspaces
                 ADD COLUMN latest_transition text,
                 ADD COLUMN latest_build_number integer,
                 ADD COLUMN latest_version_id uuid,
                 ADD COLUMN latest_job_status text,
                 ADD COLUMN latest_agents_ready boolean NOT NULL DEFAULT false`);
    await sql(`UPDATE ${s}.workspaces w
                  SET latest_transition = b.transition, latest_build_number = b.build_number,
                      latest_version_id = b.template_version_id, latest_job_status = j.job_status,
                      latest_agents_ready = j.agents_ready
                 FROM ${s}.workspace_builds b JOIN ${s}.provisioner_jobs j ON j.id = b.job_id
                WHERE b.id = w.latest_build_id`);
    // The job trigger's way from a job to its workspace (build by job_id is unique already).
    await sql(
      `CREATE INDEX idx_workspaces_latest_build ON ${s}.workspaces (latest_build_id) WHERE NOT deleted`,
    );

    await sql(`
      CREATE FUNCTION ${s}.copy_latest_build_on_pointer() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE latest record;
      BEGIN
        SELECT b.transition, b.build_number, b.template_version_id, j.job_status, j.agents_ready INTO latest
          FROM ${s}.workspace_builds b JOIN ${s}.provisioner_jobs j ON j.id = b.job_id
         WHERE b.id = NEW.latest_build_id;
        -- A build not written yet keeps what the writer set; the build's insert trigger corrects it if that was wrong.
        IF FOUND THEN
          NEW.latest_transition := latest.transition;
          NEW.latest_build_number := latest.build_number;
          NEW.latest_version_id := latest.template_version_id;
          NEW.latest_job_status := latest.job_status;
          NEW.latest_agents_ready := latest.agents_ready;
        END IF;
        RETURN NEW;
      END $$`);
    // Only for a writer that moved the pointer and left the copy as it was (a build number is unique per workspace,
    // so a writer that keeps the copy always changes it): the module's writers set the copy themselves, and a claim
    // pays no lookup. No insert trigger: a workspace is written before any build of its own can exist (the builds'
    // foreign key), so the build insert trigger below is the one that sees both.
    await sql(`CREATE TRIGGER latest_build_on_move BEFORE UPDATE ON ${s}.workspaces
                 FOR EACH ROW WHEN (NEW.latest_build_id IS DISTINCT FROM OLD.latest_build_id
                                    AND NEW.latest_build_number IS NOT DISTINCT FROM OLD.latest_build_number)
                 EXECUTE FUNCTION ${s}.copy_latest_build_on_pointer()`);

    await sql(`
      CREATE FUNCTION ${s}.copy_inserted_builds() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE ${s}.workspaces w
           SET latest_transition = b.transition, latest_build_number = b.build_number,
               latest_version_id = b.template_version_id, latest_job_status = j.job_status,
               latest_agents_ready = j.agents_ready
          FROM inserted b JOIN ${s}.provisioner_jobs j ON j.id = b.job_id
         WHERE w.latest_build_id = b.id AND NOT w.deleted
           AND (w.latest_transition, w.latest_build_number, w.latest_version_id, w.latest_job_status,
                w.latest_agents_ready)
               IS DISTINCT FROM (b.transition, b.build_number, b.template_version_id, j.job_status, j.agents_ready);
        RETURN NULL;
      END $$`);
    await sql(`CREATE TRIGGER latest_build_inserted AFTER INSERT ON ${s}.workspace_builds
                 REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
                 EXECUTE FUNCTION ${s}.copy_inserted_builds()`);

    await sql(`
      CREATE FUNCTION ${s}.copy_job_state() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE ${s}.workspaces w
           SET latest_job_status = NEW.job_status, latest_agents_ready = NEW.agents_ready
          FROM ${s}.workspace_builds b
         WHERE b.job_id = NEW.id AND w.latest_build_id = b.id AND NOT w.deleted
           AND (w.latest_job_status, w.latest_agents_ready) IS DISTINCT FROM (NEW.job_status, NEW.agents_ready);
        RETURN NULL;
      END $$`);
    await sql(`CREATE TRIGGER latest_job_state AFTER UPDATE ON ${s}.provisioner_jobs
                 FOR EACH ROW WHEN (OLD.job_status IS DISTINCT FROM NEW.job_status
                                    OR OLD.agents_ready IS DISTINCT FROM NEW.agents_ready)
                 EXECUTE FUNCTION ${s}.copy_job_state()`);
  },

  async down(sql, ns) {
    const s = ns.schema;
    await sql(`DROP TRIGGER IF EXISTS latest_job_state ON ${s}.provisioner_jobs`);
    await sql(`DROP TRIGGER IF EXISTS latest_build_inserted ON ${s}.workspace_builds`);
    await sql(`DROP TRIGGER IF EXISTS latest_build_on_move ON ${s}.workspaces`);
    await sql(`DROP FUNCTION IF EXISTS ${s}.copy_job_state()`);
    await sql(`DROP FUNCTION IF EXISTS ${s}.copy_inserted_builds()`);
    await sql(`DROP FUNCTION IF EXISTS ${s}.copy_latest_build_on_pointer()`);
    await sql(`DROP INDEX IF EXISTS ${s}.idx_workspaces_latest_build`);
    await sql(`ALTER TABLE ${s}.workspaces
                 DROP COLUMN latest_agents_ready, DROP COLUMN latest_job_status, DROP COLUMN latest_version_id,
                 DROP COLUMN latest_build_number, DROP COLUMN latest_transition`);
  },
};
