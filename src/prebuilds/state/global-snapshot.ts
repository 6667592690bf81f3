import { PresetSnapshot, type InProgressCounts, type RunningCounts } from './preset-snapshot.js';
import { RunningIndex } from './running-prebuilds.js';
import type { DemandRow } from './demand.js';
import type {
  BackoffRow,
  PrebuildScheduleRow,
  PresetRow,
  RunningPrebuildRow,
  SnapshotInput,
} from './types.js';

/** Thrown by `filterByPreset` for an id the snapshot did not read; the HTTP layer maps it to 404. */
export class UnknownPresetError extends Error {
  constructor(readonly presetId: string) {
    super(`preset ${presetId} is not in the snapshot`);
    this.name = 'UnknownPresetError';
  }
}

const NO_SCHEDULES: readonly PrebuildScheduleRow[] = Object.freeze([]);

/** Everything the snapshot holds for one preset, gathered while its rows are read once. */
interface PresetBucket {
  preset: PresetRow;
  /** Its group in the RunningIndex. */
  slot: number;
  schedules: PrebuildScheduleRow[] | null;
  inProgress: InProgressCounts;
  counted: RunningCounts | undefined;
  pendingCount: number;
  backoff: BackoffRow | null;
  demand: DemandRow | undefined;
  slice: PresetSnapshot | null;
}

/**
 * Every row of one reconciliation snapshot, indexed by preset once so that a cycle over N presets costs
 * O(rows), not O(N × rows). Rows of presets the snapshot does not list (or with no preset) belong to no slice.
 */
export class GlobalSnapshot {
  private readonly buckets = new Map<string, PresetBucket>();
  private readonly running: RunningIndex;
  private readonly hardLimited: ReadonlySet<string>;
  private readonly maxInstancesPerPreset: number | undefined;

  /** `caps.maxInstancesPerPreset` clamps every preset's desired count (DESIGN.md rule 11); absent = no cap. */
  constructor(
    private readonly input: SnapshotInput,
    caps: { maxInstancesPerPreset?: number } = {},
  ) {
    this.maxInstancesPerPreset = caps.maxInstancesPerPreset;

    const buckets = this.buckets;
    for (const preset of input.presets) {
      buckets.set(preset.presetId, {
        preset,
        slot: buckets.get(preset.presetId)?.slot ?? buckets.size,
        schedules: null,
        inProgress: { starting: 0, stopping: 0, deleting: 0 },
        counted: undefined,
        pendingCount: 0,
        backoff: null,
        demand: undefined,
        slice: null,
      });
    }
    for (const s of input.schedules) {
      const b = buckets.get(s.presetId);
      if (b) (b.schedules ??= []).push(s);
    }
    this.running = new RunningIndex(input.running, buckets.size, (r) =>
      r.presetId === null ? -1 : (buckets.get(r.presetId)?.slot ?? -1),
    );
    for (const c of input.runningCounts ?? []) {
      const b = buckets.get(c.presetId);
      if (!b) continue;
      b.counted ??= { running: 0, ready: 0, expired: 0 };
      b.counted.running += c.running;
      b.counted.ready += c.ready;
      b.counted.expired += c.expired;
    }
    for (const r of input.inProgress) {
      const b = buckets.get(r.presetId);
      if (!b) continue;
      if (r.transition === 'start') b.inProgress.starting += r.count;
      else if (r.transition === 'stop') b.inProgress.stopping += r.count;
      else b.inProgress.deleting += r.count;
    }
    for (const r of input.pendingNonActive) {
      const b = buckets.get(r.presetId);
      if (b) b.pendingCount += r.count;
    }
    // The backoff query yields one row per preset; should two appear, the later failure decides.
    for (const r of input.backoffs) {
      const b = buckets.get(r.presetId);
      if (b && (b.backoff === null || b.backoff.lastFailedAt.getTime() <= r.lastFailedAt.getTime()))
        b.backoff = r;
    }
    for (const d of input.demand ?? []) {
      const b = buckets.get(d.presetId);
      if (b) b.demand = d;
    }
    this.hardLimited = new Set(input.hardLimitedPresetIds);
  }

  /** Ids of every preset the snapshot read, in snapshot order. */
  presetIds(): string[] {
    return [...this.buckets.keys()];
  }

  get presets(): PresetRow[] {
    return [...this.buckets.values()].map((b) => b.preset);
  }

  hasPreset(presetId: string): boolean {
    return this.buckets.has(presetId);
  }

  /** Presets whose actions at `now` need the running rows the snapshot only counted (PresetSnapshot.needsRunningRows). */
  presetsNeedingRows(now: Date): string[] {
    return this.presetIds().filter(
      (id) => this.buckets.get(id)?.counted !== undefined && this.filterByPreset(id).needsRunningRows(now),
    );
  }

  /**
   * The same snapshot with the running prebuilds of `presetIds` given as `rows` (all of theirs, read in the same
   * transaction) in place of their counts.
   */
  withRunningRows(presetIds: readonly string[], rows: readonly RunningPrebuildRow[]): GlobalSnapshot {
    const replaced = new Set(presetIds);
    return new GlobalSnapshot(
      {
        ...this.input,
        running: [
          ...this.input.running.filter((r) => r.presetId === null || !replaced.has(r.presetId)),
          ...rows,
        ],
        runningCounts: (this.input.runningCounts ?? []).filter((c) => !replaced.has(c.presetId)),
      },
      { maxInstancesPerPreset: this.maxInstancesPerPreset },
    );
  }

  /** One preset's slice; the same object for repeated calls, so its per-`now` work is shared. */
  filterByPreset(presetId: string): PresetSnapshot {
    const b = this.buckets.get(presetId);
    if (!b) throw new UnknownPresetError(presetId);
    b.slice ??= new PresetSnapshot({
      preset: b.preset,
      schedules: b.schedules ?? NO_SCHEDULES,
      running: this.running.slice(b.slot),
      inProgress: b.inProgress,
      counted: b.counted,
      pendingCount: b.pendingCount,
      backoff: b.backoff,
      demand: b.demand,
      hardLimited: this.hardLimited.has(presetId),
      maxInstancesPerPreset: this.maxInstancesPerPreset,
    });
    return b.slice;
  }

  /** Every preset's slice, in snapshot order. */
  presetSnapshots(): PresetSnapshot[] {
    return this.presetIds().map((id) => this.filterByPreset(id));
  }
}
