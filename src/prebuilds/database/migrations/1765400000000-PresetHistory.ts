import type { PrebuildsMigration } from './prebuilds-migration.js';

/**
 * Per-preset history (issue 15): each full cycle's gauges and the claims and misses since the previous sample, in
 * buckets of three resolutions, so that a chart of any window has 60 to 100 points. Rows are written only where
 * something changed: a bucket holds the gauges a preset moved to in it (and those it moved from, so that a reader
 * can tell the value before the first change it still has) and the claim counts; a bucket in which a full cycle ran
 * is recorded once for every preset. A steady pool of 10,000 presets so writes nothing per cycle, instead of 30,000
 * rows. Each resolution's retention bounds both tables.
 *
 * Claim events are marked once a sample has counted them (`history_counted`), instead of a high-water mark in time:
 * events reach the table up to `notifyFlushMs` after their `created_at` and carry the claiming replica's clock, so a
 * mark in time would drop those that commit behind it. A row the sample's UPDATE did not see is counted by the next.
 */
export const presetHistory: PrebuildsMigration = {
  name: '1765400000000-PresetHistory',

  async up(sql, ns) {
    const s = ns.schema;
    await sql(`
      CREATE TABLE ${s}.preset_history (
        preset_id uuid NOT NULL REFERENCES ${s}.template_version_presets(id) ON DELETE CASCADE,
        resolution_seconds integer NOT NULL CHECK (resolution_seconds > 0),
        bucket_start timestamptz NOT NULL,
        -- The gauges of the last sample in the bucket; NULL while the bucket has only claim counts (a preset the
        -- cycle did not reconcile, such as one without prebuilds, that a user claimed from).
        desired integer,
        running integer,
        eligible integer,
        starting integer,
        claims integer NOT NULL DEFAULT 0,
        misses integer NOT NULL DEFAULT 0,
        -- The gauges before the first change in this bucket (NULL for a preset's first sample).
        prev_desired integer,
        prev_running integer,
        prev_eligible integer,
        prev_starting integer,
        -- When the gauges were sampled: a late sample of an earlier instant (a replica whose clock is behind)
        -- never overwrites a newer one.
        sampled_at timestamptz,
        PRIMARY KEY (preset_id, resolution_seconds, bucket_start)
      )`);
    // Each preset's gauges as last sampled: what a cycle compares its own with, and the value of a quiet pool.
    await sql(`
      CREATE TABLE ${s}.preset_history_latest (
        preset_id uuid PRIMARY KEY REFERENCES ${s}.template_version_presets(id) ON DELETE CASCADE,
        desired integer NOT NULL,
        running integer NOT NULL,
        eligible integer NOT NULL,
        starting integer NOT NULL,
        sampled_at timestamptz NOT NULL
      )`);
    // Bumped by every sample that moved a preset's latest gauges: a replica that saw the version it expects knows its
    // own copy of them is current, and sends only the presets whose gauges changed since (PresetHistoryRepository).
    await sql(`ALTER TABLE ${s}.prebuilds_settings ADD COLUMN history_version bigint NOT NULL DEFAULT 0`);
    // The buckets in which a full cycle sampled: a bucket without one is a gap (no replica ran), not a steady pool.
    await sql(`
      CREATE TABLE ${s}.preset_history_cycles (
        resolution_seconds integer NOT NULL,
        bucket_start timestamptz NOT NULL,
        PRIMARY KEY (resolution_seconds, bucket_start)
      )`);
    // The thinning delete, per resolution, oldest first (reads go by the primary key).
    await sql(
      `CREATE INDEX idx_preset_history_age ON ${s}.preset_history (resolution_seconds, bucket_start)`,
    );
    // Events recorded before history existed count as counted: they would all land in the first bucket.
    await sql(`ALTER TABLE ${s}.prebuild_events ADD COLUMN history_counted boolean NOT NULL DEFAULT true`);
    await sql(`ALTER TABLE ${s}.prebuild_events ALTER COLUMN history_counted SET DEFAULT false`);
    // Each sample finds the events it has not counted yet without reading the retained week.
    await sql(
      `CREATE INDEX idx_prebuild_events_uncounted ON ${s}.prebuild_events (created_at) WHERE NOT history_counted`,
    );
  },

  async down(sql, ns) {
    const s = ns.schema;
    await sql(`DROP INDEX ${s}.idx_prebuild_events_uncounted`);
    await sql(`ALTER TABLE ${s}.prebuild_events DROP COLUMN history_counted`);
    await sql(`DROP TABLE ${s}.preset_history_cycles`);
    await sql(`ALTER TABLE ${s}.prebuilds_settings DROP COLUMN history_version`);
    await sql(`DROP TABLE ${s}.preset_history_latest`);
    await sql(`DROP TABLE ${s}.preset_history`);
  },
};
