import type { PrebuildsMigration } from './prebuilds-migration.js';

/**
 * Provisioner job leases (DESIGN.md "Provisioner jobs (leases)"): the worker holding a running job renews
 * `lease_expires_at` (database time) by heartbeats; `acquired_at` is when the current holder took it (database time, for
 * `jobTimeoutMs`); `attempts` counts acquisitions, so that a job lost again and again
 * ends `provisioner_lost` instead of circling forever. `failure_kind` tells a failure the provisioner reported for the
 * build (`build`, the only kind that feeds backoff and the hard limit) from infrastructure failures
 * (`provisioner_lost`, `timeout`, `canceled`); rows failed before this migration count as `build`.
 */
export const jobLeases: PrebuildsMigration = {
  name: '1764950000000-JobLeases',

  async up(sql, ns) {
    const s = ns.schema;
    await sql(`ALTER TABLE ${s}.provisioner_jobs
                 ADD COLUMN acquired_at timestamptz,
                 ADD COLUMN lease_expires_at timestamptz,
                 ADD COLUMN attempts integer NOT NULL DEFAULT 0,
                 ADD COLUMN failure_kind text
                   CHECK (failure_kind IN ('build', 'provisioner_lost', 'timeout', 'canceled'))`);
    await sql(
      `UPDATE ${s}.provisioner_jobs SET attempts = 1, acquired_at = started_at WHERE started_at IS NOT NULL`,
    );
    await sql(`UPDATE ${s}.provisioner_jobs SET failure_kind = 'build' WHERE job_status = 'failed'`);
    // The lease sweep: running jobs by lease expiry.
    await sql(
      `CREATE INDEX idx_jobs_lease ON ${s}.provisioner_jobs (lease_expires_at)
         WHERE started_at IS NOT NULL AND completed_at IS NULL`,
    );
  },

  async down(sql, ns) {
    const s = ns.schema;
    await sql(`DROP INDEX IF EXISTS ${s}.idx_jobs_lease`);
    await sql(`ALTER TABLE ${s}.provisioner_jobs
                 DROP COLUMN failure_kind, DROP COLUMN attempts, DROP COLUMN lease_expires_at, DROP COLUMN acquired_at`);
  },
};
