import type { PrebuildsMigration } from './prebuilds-migration.js';

/**
 * External provisioners over the network (issue 16): the keys they authenticate with, stored only as the SHA-256
 * digest of their secret; the tags a job carries and a key must match (`is_prebuild` for prebuild jobs, plus the
 * template's `provisioner_tags`); and each job's build log, bounded by the counters on the job row so that an append
 * decides what still fits under one row lock.
 */
export const provisionerKeys: PrebuildsMigration = {
  name: '1765300000000-ProvisionerKeys',

  async up(sql, ns) {
    const s = ns.schema;
    await sql(`
      CREATE TABLE ${s}.provisioner_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        -- hex SHA-256 of the key's random secret; the secret itself is shown once and never stored.
        secret_hash text NOT NULL,
        tags jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object'),
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    // Every call of a daemon looks its key up by digest (ProvisionerKeyRepository.findLiveByHash).
    await sql(`CREATE UNIQUE INDEX uq_provisioner_keys_secret ON ${s}.provisioner_keys (secret_hash)`);
    // A name names one live key; a revoked key's name can be given to its replacement.
    await sql(
      `CREATE UNIQUE INDEX uq_provisioner_keys_name ON ${s}.provisioner_keys (name) WHERE revoked_at IS NULL`,
    );

    await sql(`ALTER TABLE ${s}.templates
                 ADD COLUMN provisioner_tags jsonb NOT NULL DEFAULT '{}'
                   CHECK (jsonb_typeof(provisioner_tags) = 'object')`);
    await sql(`ALTER TABLE ${s}.provisioner_jobs
                 ADD COLUMN tags jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object'),
                 ADD COLUMN log_lines integer NOT NULL DEFAULT 0,
                 ADD COLUMN log_bytes bigint NOT NULL DEFAULT 0,
                 ADD COLUMN log_truncated boolean NOT NULL DEFAULT false`);
    // Jobs written before tags existed: a prebuild's own builds are prebuild jobs.
    await sql(`UPDATE ${s}.provisioner_jobs j SET tags = '{"is_prebuild": "true"}'
                 FROM ${s}.workspace_builds b
                WHERE b.job_id = j.id AND b.initiator_id = ${ns.owner}`);

    await sql(`
      CREATE TABLE ${s}.provisioner_job_logs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        job_id uuid NOT NULL REFERENCES ${s}.provisioner_jobs(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        stream text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
        text text NOT NULL
      )`);
    // Reading and following a build's log: its lines in order, after the last one seen.
    await sql(`CREATE INDEX idx_job_logs_job ON ${s}.provisioner_job_logs (job_id, id)`);
  },

  async down(sql, ns) {
    const s = ns.schema;
    await sql(`DROP TABLE ${s}.provisioner_job_logs`);
    await sql(`ALTER TABLE ${s}.provisioner_jobs
                 DROP COLUMN log_truncated, DROP COLUMN log_bytes, DROP COLUMN log_lines, DROP COLUMN tags`);
    await sql(`ALTER TABLE ${s}.templates DROP COLUMN provisioner_tags`);
    await sql(`DROP TABLE ${s}.provisioner_keys`);
  },
};
