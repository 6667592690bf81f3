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

interface SampleAnswer {
  ok: boolean;
  version: string;
  lost: string[];
  written: number;
  thinned: number;
  events: number;
}

/** Bounds the per-process copy of the latest gauges; past it, the next sample sends every preset again. */
const KNOWN_LIMIT = 1_000_000;

const gaugeKey = (x: PresetGaugeSample) => `${x.desired},${x.running},${x.eligible},${x.starting}`;

/** One stored row as the reader needs it. */
interface HistoryRow {
  at: Date;
  desired: number | null;
  running: number | null;
  eligible: number | null;
  starting: number | null;
  prevDesired: number | null;
  prevRunning: number | null;
  prevEligible: number | null;
  prevStarting: number | null;
  claims: number;
  misses: number;
}

type Gauges = Pick<PresetHistoryBucket, 'desired' | 'running' | 'eligible' | 'starting'>;

@Injectable()
export class PresetHistoryRepository {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  /**
   * Counts the claim events no sample has counted yet and marks them; moves each preset whose gauges differ from its
   * last sample (preset_history_latest) and writes that change, with the gauges it moved from, into the buckets of
   * `now` at every resolution, with the claims; records that a full cycle sampled these buckets; and deletes what is
   * past its resolution's retention. A steady pool writes nothing. Usually one statement, carrying only the presets
   * whose gauges changed since this process's last sample; a second one carries all of them when another replica
   * moved something in between (the version check of the first failed). The settings row is locked first, so two
   * replicas' samples run one after the other and cannot deadlock on the rows both write; an event is marked by one
   * of them only (the second one's UPDATE rechecks the flag once the first commits). Bucket starts are computed in
   * SQL from `now`, the cycle's time, passed in.
   */
  async recordCycle(
    now: Date,
    samples: PresetGaugeSample[],
  ): Promise<{ written: number; thinned: number; events: number }> {
    // Only what changed since this process's last sample, while no other replica moved anything meanwhile (at 100k
    // presets, sending every preset cost ~0.5 s of array encoding and parsing per cycle, for nothing).
    const known = this.known;
    if (known !== null) {
      const partial = samples.filter((x) => known.gauges.get(x.presetId) !== gaugeKey(x));
      const answer = await this.sample(now, partial, samples.length > 0, known.version);
      if (answer.ok) return this.remember(answer, partial, false);
    }
    return this.remember(await this.sample(now, samples, samples.length > 0, null), samples, true);
  }

  /** What this process knows the latest gauges to be, as of `version` (prebuilds_settings.history_version). */
  private known: { version: string; gauges: Map<string, string> } | null = null;

  private remember(answer: SampleAnswer, sent: readonly PresetGaugeSample[], full: boolean) {
    const gauges = full || this.known === null ? new Map<string, string>() : this.known.gauges;
    const lost = new Set(answer.lost);
    for (const x of sent) {
      // A sample that lost to a newer one (a replica whose clock is ahead) is not what the table holds.
      if (lost.has(x.presetId)) gauges.delete(x.presetId);
      else gauges.set(x.presetId, gaugeKey(x));
    }
    if (gauges.size > KNOWN_LIMIT) gauges.clear();
    this.known = { version: answer.version, gauges };
    return { written: answer.written, thinned: answer.thinned, events: answer.events };
  }

  /**
   * The statement. With `expected`, it applies the samples only if no sample has moved anything since that version
   * (else `ok` is false and nothing but the claim counting and thinning happened); without, always.
   */
  private async sample(
    now: Date,
    samples: readonly PresetGaugeSample[],
    cycleRan: boolean,
    expected: string | null,
  ): Promise<SampleAnswer> {
    const s = this.ns.schema;
    const [row] = await this.dataSource.query(
      `WITH settings AS MATERIALIZED (
         SELECT true AS locked, history_version FROM ${s}.prebuilds_settings FOR UPDATE
       ),
       valid AS MATERIALIZED (
         SELECT $10::bigint IS NULL OR history_version = $10::bigint AS ok FROM settings
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
           FROM counted
          -- A preset deleted since has nothing left to chart, and its row would fail the foreign key.
          WHERE EXISTS (SELECT 1 FROM ${s}.template_version_presets p WHERE p.id = preset_id)
          GROUP BY preset_id
       ),
       gauges AS (
         SELECT * FROM unnest($2::uuid[], $3::int[], $4::int[], $5::int[], $6::int[])
           AS g(preset_id, desired, running, eligible, starting)
          WHERE (SELECT ok FROM valid)
       ),
       lost AS (
         SELECT g.preset_id FROM gauges g JOIN ${s}.preset_history_latest l USING (preset_id)
          WHERE l.sampled_at > $1::timestamptz
       ),
       -- Found by reading (no row lock): only presets whose gauges moved are written. Materialized, so that the
       -- existence check below probes only those, not every sampled preset (100k at scale).
       moving AS MATERIALIZED (
         SELECT g.*, l.desired AS prev_desired, l.running AS prev_running, l.eligible AS prev_eligible,
                l.starting AS prev_starting
           FROM gauges g LEFT JOIN ${s}.preset_history_latest l USING (preset_id)
          WHERE l.preset_id IS NULL
             OR (l.sampled_at <= $1::timestamptz
                 AND (l.desired, l.running, l.eligible, l.starting)
                     IS DISTINCT FROM (g.desired, g.running, g.eligible, g.starting))
       ),
       -- A preset deleted since the snapshot has nothing left to chart, and its rows would fail the foreign key.
       changed AS (
         SELECT m.* FROM moving m
          WHERE EXISTS (SELECT 1 FROM ${s}.template_version_presets p WHERE p.id = m.preset_id)
       ),
       moved AS (
         INSERT INTO ${s}.preset_history_latest AS l (preset_id, desired, running, eligible, starting, sampled_at)
         SELECT preset_id, desired, running, eligible, starting, $1::timestamptz FROM changed ORDER BY preset_id
         ON CONFLICT (preset_id) DO UPDATE SET desired = EXCLUDED.desired, running = EXCLUDED.running,
           eligible = EXCLUDED.eligible, starting = EXCLUDED.starting, sampled_at = EXCLUDED.sampled_at
         -- Checked again on the row as it is now: another replica's sample may have moved it meanwhile.
         WHERE EXCLUDED.sampled_at >= l.sampled_at
         RETURNING l.preset_id
       ),
       bumped AS (
         UPDATE ${s}.prebuilds_settings SET history_version = history_version + 1
          WHERE EXISTS (SELECT 1 FROM moved)
         RETURNING history_version
       ),
       samples AS (
         SELECT preset_id, c.desired, c.running, c.eligible, c.starting, c.prev_desired, c.prev_running,
                c.prev_eligible, c.prev_starting, COALESCE(k.claims, 0) AS claims, COALESCE(k.misses, 0) AS misses,
                CASE WHEN c.preset_id IS NOT NULL THEN $1::timestamptz END AS sampled_at
           FROM (SELECT changed.* FROM changed JOIN moved USING (preset_id)) c
           FULL JOIN claims k USING (preset_id)
       ),
       resolutions AS (
         SELECT r.seconds, r.retention_seconds,
                to_timestamp(floor(extract(epoch FROM $1::timestamptz) / r.seconds) * r.seconds) AS bucket_start
           FROM unnest($7::int[], $8::float8[]) AS r(seconds, retention_seconds)
       ),
       written AS (
         INSERT INTO ${s}.preset_history AS h
           (preset_id, resolution_seconds, bucket_start, desired, running, eligible, starting, prev_desired,
            prev_running, prev_eligible, prev_starting, claims, misses, sampled_at)
         SELECT x.preset_id, r.seconds, r.bucket_start, x.desired, x.running, x.eligible, x.starting,
                x.prev_desired, x.prev_running, x.prev_eligible, x.prev_starting, x.claims, x.misses, x.sampled_at
           FROM samples x CROSS JOIN resolutions r
          -- One order for every writer, so that concurrent samples lock rows alike.
          ORDER BY x.preset_id, r.seconds
         ON CONFLICT (preset_id, resolution_seconds, bucket_start) DO UPDATE SET
           desired = CASE WHEN ${newer('EXCLUDED', 'h')} THEN EXCLUDED.desired ELSE h.desired END,
           running = CASE WHEN ${newer('EXCLUDED', 'h')} THEN EXCLUDED.running ELSE h.running END,
           eligible = CASE WHEN ${newer('EXCLUDED', 'h')} THEN EXCLUDED.eligible ELSE h.eligible END,
           starting = CASE WHEN ${newer('EXCLUDED', 'h')} THEN EXCLUDED.starting ELSE h.starting END,
           sampled_at = CASE WHEN ${newer('EXCLUDED', 'h')} THEN EXCLUDED.sampled_at ELSE h.sampled_at END,
           -- What the bucket moved from is its first change's (or, after claims only, the first gauge sample's).
           prev_desired = CASE WHEN h.sampled_at IS NULL THEN EXCLUDED.prev_desired ELSE h.prev_desired END,
           prev_running = CASE WHEN h.sampled_at IS NULL THEN EXCLUDED.prev_running ELSE h.prev_running END,
           prev_eligible = CASE WHEN h.sampled_at IS NULL THEN EXCLUDED.prev_eligible ELSE h.prev_eligible END,
           prev_starting = CASE WHEN h.sampled_at IS NULL THEN EXCLUDED.prev_starting ELSE h.prev_starting END,
           claims = h.claims + EXCLUDED.claims,
           misses = h.misses + EXCLUDED.misses
         RETURNING 1
       ),
       covered AS (
         INSERT INTO ${s}.preset_history_cycles (resolution_seconds, bucket_start)
         SELECT seconds, bucket_start FROM resolutions WHERE $9::boolean AND (SELECT ok FROM valid)
         ON CONFLICT DO NOTHING
         RETURNING 1
       ),
       thinned AS (
         DELETE FROM ${s}.preset_history h USING resolutions r
          WHERE h.resolution_seconds = r.seconds
            AND h.bucket_start < $1::timestamptz - make_interval(secs => r.retention_seconds)
            AND (SELECT locked FROM settings)
         RETURNING 1
       ),
       uncovered AS (
         DELETE FROM ${s}.preset_history_cycles c USING resolutions r
          WHERE c.resolution_seconds = r.seconds
            AND c.bucket_start < $1::timestamptz - make_interval(secs => r.retention_seconds)
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM written)::int AS written, (SELECT count(*) FROM thinned)::int AS thinned,
              (SELECT count(*) FROM counted)::int AS events, (SELECT ok FROM valid) AS ok,
              COALESCE((SELECT history_version FROM bumped), (SELECT history_version FROM settings))::text AS version,
              ARRAY(SELECT preset_id FROM lost)::text[] AS lost,
              (SELECT count(*) FROM covered)::int AS covered, (SELECT count(*) FROM uncovered)::int AS uncovered`,
      [
        now,
        samples.map((x) => x.presetId),
        samples.map((x) => x.desired),
        samples.map((x) => x.running),
        samples.map((x) => x.eligible),
        samples.map((x) => x.starting),
        RESOLUTIONS.map((r) => r.resolutionSeconds),
        RESOLUTIONS.map((r) => r.retentionMs / 1000),
        cycleRan,
        expected,
      ],
    );
    return row;
  }

  /**
   * The preset's buckets of `window`'s resolution that start inside [now − window, now], oldest first: every bucket
   * a full cycle sampled, and any with claims; null when the preset does not exist. Rows exist only where something
   * changed, so a bucket's gauges are those of the last change at or before it, or, before the first change still
   * kept, what that change moved from, or, with no change kept at all, the preset's last sample. A preset never
   * sampled (no prebuilds wanted) reads as zero gauges.
   */
  async read(presetId: string, window: HistoryWindow, now: Date): Promise<PresetHistoryBucket[] | null> {
    const s = this.ns.schema;
    const { resolutionSeconds, from, to } = historyRange(window, now);
    const [preset] = await this.dataSource.query(
      `SELECT l.desired, l.running, l.eligible, l.starting, (l.preset_id IS NOT NULL) AS sampled
         FROM ${s}.template_version_presets p LEFT JOIN ${s}.preset_history_latest l ON l.preset_id = p.id
        WHERE p.id = $1`,
      [presetId],
    );
    if (!preset) return null;
    // Every change still kept (a window's worth and the retention margin): the values before `from` come from them.
    const rows: HistoryRow[] = await this.dataSource.query(
      `SELECT bucket_start AS at, desired, running, eligible, starting, prev_desired AS "prevDesired",
              prev_running AS "prevRunning", prev_eligible AS "prevEligible", prev_starting AS "prevStarting",
              claims, misses
         FROM ${s}.preset_history WHERE preset_id = $1 AND resolution_seconds = $2 AND bucket_start <= $3
        ORDER BY bucket_start`,
      [presetId, resolutionSeconds, to],
    );
    const cycles: { at: Date }[] = await this.dataSource.query(
      `SELECT bucket_start AS at FROM ${s}.preset_history_cycles
        WHERE resolution_seconds = $1 AND bucket_start BETWEEN $2 AND $3 ORDER BY bucket_start`,
      [resolutionSeconds, from, to],
    );
    const latest: Gauges | null = preset.sampled ? preset : null;
    return bucketsOf(rows, cycles, latest, from);
  }
}

/** The buckets to show: covered by a cycle or holding claims, in [from, …], each with the gauges it had. */
function bucketsOf(
  rows: readonly HistoryRow[],
  cycles: readonly { at: Date }[],
  latest: Gauges | null,
  from: Date,
): PresetHistoryBucket[] {
  const byStart = new Map(rows.map((row) => [row.at.getTime(), row]));
  const starts = new Set(cycles.map((c) => c.at.getTime()));
  for (const row of rows)
    if (row.at >= from && (row.claims > 0 || row.misses > 0)) starts.add(row.at.getTime());
  const changes = rows.filter((row) => row.desired !== null);
  const buckets: PresetHistoryBucket[] = [];
  for (const start of [...starts].sort((a, b) => a - b)) {
    const gauges = gaugesAt(start, changes, latest);
    const row = byStart.get(start);
    if (!gauges && !row) continue;
    buckets.push({
      at: new Date(start),
      ...(gauges ?? { desired: 0, running: 0, eligible: 0, starting: 0 }),
      claims: row?.claims ?? 0,
      misses: row?.misses ?? 0,
    });
  }
  return buckets;
}

/** The gauges at bucket `start`, from the changes (ascending) around it; null when nothing is known of them yet. */
function gaugesAt(start: number, changes: readonly HistoryRow[], latest: Gauges | null): Gauges | null {
  let before: HistoryRow | undefined;
  let after: HistoryRow | undefined;
  for (const change of changes) {
    if (change.at.getTime() <= start) before = change;
    else {
      after = change;
      break;
    }
  }
  const pick = (r: HistoryRow, prev: boolean): Gauges | null =>
    prev
      ? r.prevDesired === null
        ? null
        : {
            desired: r.prevDesired,
            running: r.prevRunning ?? 0,
            eligible: r.prevEligible ?? 0,
            starting: r.prevStarting ?? 0,
          }
      : {
          desired: r.desired ?? 0,
          running: r.running ?? 0,
          eligible: r.eligible ?? 0,
          starting: r.starting ?? 0,
        };
  if (before) return pick(before, false);
  if (after) return pick(after, true);
  return latest;
}
