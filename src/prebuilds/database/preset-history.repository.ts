import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

export type HistoryWindow = '1h' | '24h' | '7d';

/**
 * Each window reads the resolution that gives it 60 to 100 points; each resolution is kept a little longer than
 * its window, so a window read just before a thinning delete is still whole.
 */
export const HISTORY_RESOLUTIONS: Readonly<
  Record<HistoryWindow, { windowMs: number; resolutionSeconds: number; retentionMs: number }>
> = {
  '1h': { windowMs: 3_600_000, resolutionSeconds: 60, retentionMs: 2 * 3_600_000 },
  '24h': { windowMs: 24 * 3_600_000, resolutionSeconds: 900, retentionMs: 26 * 3_600_000 },
  '7d': { windowMs: 7 * 24 * 3_600_000, resolutionSeconds: 7_200, retentionMs: (7 * 24 + 2) * 3_600_000 },
};

export const HISTORY_WINDOWS = Object.keys(HISTORY_RESOLUTIONS) as HistoryWindow[];

/** A preset's gauges as one full cycle computed them. */
export interface PresetGaugeSample {
  presetId: string;
  desired: number;
  running: number;
  eligible: number;
  starting: number;
}

export interface PresetHistoryBucket {
  at: Date;
  desired: number;
  running: number;
  eligible: number;
  starting: number;
  claims: number;
  misses: number;
}

const RESOLUTIONS = Object.values(HISTORY_RESOLUTIONS);

/** The resolution a window reads and the bucket starts it covers, [now − window, now]. */
export function historyRange(
  window: HistoryWindow,
  now: Date,
): { resolutionSeconds: number; from: Date; to: Date } {
  const { windowMs, resolutionSeconds } = HISTORY_RESOLUTIONS[window];
  return { resolutionSeconds, from: new Date(now.getTime() - windowMs), to: now };
}

/** The incoming sample is the bucket's latest gauge sample (a claims-only row is no gauge sample). */
const newer = (incoming: string, stored: string) =>
  `(${incoming}.sampled_at IS NOT NULL AND (${stored}.sampled_at IS NULL OR ${incoming}.sampled_at >= ${stored}.sampled_at))`;

/** The incoming row adds claims, or is a newer sample with other gauges. */
const changes = (incoming: string, stored: string) =>
  `(${incoming}.claims > 0 OR ${incoming}.misses > 0
    OR (${newer(incoming, stored)} AND (${stored}.desired, ${stored}.running, ${stored}.eligible, ${stored}.starting)
        IS DISTINCT FROM (${incoming}.desired, ${incoming}.running, ${incoming}.eligible, ${incoming}.starting)))`;

@Injectable()
export class PresetHistoryRepository {
  constructor(
    private readonly ns: PrebuildsNamespace,
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * One statement: count the claim events no sample has counted yet and mark them, add them and this cycle's
   * gauges to the buckets of `now` at every resolution, and delete the buckets past their retention. The settings
   * row is locked first, so two replicas' samples run one after the other and cannot deadlock on the rows both
   * write; an event is marked by one of them only (the second one's UPDATE rechecks the flag once the first
   * commits). Bucket starts are computed in SQL from `now`, the cycle's time, passed in.
   */
  async recordCycle(
    now: Date,
    samples: PresetGaugeSample[],
  ): Promise<{ written: number; thinned: number; events: number }> {
    const s = this.ns.schema;
    const [row] = await this.dataSource.query(
      `WITH settings AS MATERIALIZED (
         SELECT true AS locked FROM ${s}.prebuilds_settings FOR UPDATE
       ),
       counted AS (
         UPDATE ${s}.prebuild_events e SET history_counted = true
          WHERE NOT e.history_counted AND (SELECT locked FROM settings)
         RETURNING e.preset_id, e.event_type
       ),
       claims AS (
         SELECT preset_id,
                count(*) FILTER (WHERE event_type = 'claim_succeeded')::int AS claims,
                count(*) FILTER (WHERE event_type = 'claim_missed')::int AS misses
           FROM counted GROUP BY preset_id
       ),
       gauges AS (
         SELECT * FROM unnest($2::uuid[], $3::int[], $4::int[], $5::int[], $6::int[])
           AS g(preset_id, desired, running, eligible, starting)
       ),
       samples AS (
         SELECT preset_id, g.desired, g.running, g.eligible, g.starting,
                COALESCE(c.claims, 0) AS claims, COALESCE(c.misses, 0) AS misses,
                CASE WHEN g.preset_id IS NOT NULL THEN $1::timestamptz END AS sampled_at
           FROM gauges g FULL JOIN claims c USING (preset_id)
          -- A preset deleted since the snapshot has nothing left to chart, and its row would fail the foreign key.
          WHERE EXISTS (SELECT 1 FROM ${s}.template_version_presets p WHERE p.id = preset_id)
       ),
       resolutions AS (
         SELECT r.seconds, r.retention_seconds,
                to_timestamp(floor(extract(epoch FROM $1::timestamptz) / r.seconds) * r.seconds) AS bucket_start
           FROM unnest($7::int[], $8::float8[]) AS r(seconds, retention_seconds)
       ),
       stored AS (
         SELECT h.* FROM ${s}.preset_history h
           JOIN resolutions r ON h.resolution_seconds = r.seconds AND h.bucket_start = r.bucket_start
       ),
       -- What this sample changes, found by reading (taking no row lock): a quiet pool's buckets are left as
       -- they are through the cycles they span, so sampled_at keeps the first of those equal samples.
       changes AS (
         SELECT x.preset_id, r.seconds, r.bucket_start, x.desired, x.running, x.eligible, x.starting, x.claims,
                x.misses, x.sampled_at
           FROM samples x CROSS JOIN resolutions r
           LEFT JOIN stored h ON h.preset_id = x.preset_id AND h.resolution_seconds = r.seconds
          WHERE h.preset_id IS NULL OR ${changes('x', 'h')}
       ),
       written AS (
         INSERT INTO ${s}.preset_history AS h
           (preset_id, resolution_seconds, bucket_start, desired, running, eligible, starting, claims, misses,
            sampled_at)
         SELECT * FROM changes
          -- One order for every writer, so that concurrent samples lock rows alike.
          ORDER BY preset_id, seconds
         ON CONFLICT (preset_id, resolution_seconds, bucket_start) DO UPDATE SET
           desired = CASE WHEN ${newer('EXCLUDED', 'h')} THEN EXCLUDED.desired ELSE h.desired END,
           running = CASE WHEN ${newer('EXCLUDED', 'h')} THEN EXCLUDED.running ELSE h.running END,
           eligible = CASE WHEN ${newer('EXCLUDED', 'h')} THEN EXCLUDED.eligible ELSE h.eligible END,
           starting = CASE WHEN ${newer('EXCLUDED', 'h')} THEN EXCLUDED.starting ELSE h.starting END,
           sampled_at = CASE WHEN ${newer('EXCLUDED', 'h')} THEN EXCLUDED.sampled_at ELSE h.sampled_at END,
           claims = h.claims + EXCLUDED.claims,
           misses = h.misses + EXCLUDED.misses
         -- Checked again on the row as it is now: another replica's sample may have written it meanwhile.
         WHERE ${changes('EXCLUDED', 'h')}
         RETURNING 1
       ),
       thinned AS (
         DELETE FROM ${s}.preset_history h USING resolutions r
          WHERE h.resolution_seconds = r.seconds
            AND h.bucket_start < $1::timestamptz - make_interval(secs => r.retention_seconds)
            AND (SELECT locked FROM settings)
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM written)::int AS written, (SELECT count(*) FROM thinned)::int AS thinned,
              (SELECT count(*) FROM counted)::int AS events`,
      [
        now,
        samples.map((x) => x.presetId),
        samples.map((x) => x.desired),
        samples.map((x) => x.running),
        samples.map((x) => x.eligible),
        samples.map((x) => x.starting),
        RESOLUTIONS.map((r) => r.resolutionSeconds),
        RESOLUTIONS.map((r) => r.retentionMs / 1000),
      ],
    );
    return row;
  }

  /**
   * The preset's buckets of `window`'s resolution that start inside [now − window, now], oldest first; null when
   * the preset does not exist. The gauges of a bucket without a gauge sample read as 0: the cycles had nothing of
   * that preset to reconcile (no prebuilds wanted, or inactive and empty).
   */
  async read(presetId: string, window: HistoryWindow, now: Date): Promise<PresetHistoryBucket[] | null> {
    const { resolutionSeconds, from, to } = historyRange(window, now);
    const rows: (Omit<PresetHistoryBucket, 'at'> & { at: Date | null })[] = await this.dataSource.query(
      `SELECT h.bucket_start AS at, COALESCE(h.desired, 0) AS desired, COALESCE(h.running, 0) AS running,
              COALESCE(h.eligible, 0) AS eligible, COALESCE(h.starting, 0) AS starting, h.claims, h.misses
         FROM ${this.ns.schema}.template_version_presets p
         LEFT JOIN ${this.ns.schema}.preset_history h
           ON h.preset_id = p.id AND h.resolution_seconds = $2 AND h.bucket_start BETWEEN $3 AND $4
        WHERE p.id = $1
        ORDER BY h.bucket_start`,
      [presetId, resolutionSeconds, from, to],
    );
    if (rows.length === 0) return null;
    return rows.filter((row): row is PresetHistoryBucket => row.at !== null);
  }
}
