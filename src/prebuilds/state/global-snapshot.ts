import { PresetSnapshot, type InProgressCounts } from './preset-snapshot.js';
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
const NOTHING_IN_PROGRESS: InProgressCounts = Object.freeze({ starting: 0, stopping: 0, deleting: 0 });

/**
 * The slot of every preset of one preset list (a listed id's later row replaces its earlier one, in the first one's
 * slot). Kept per list object and reused while the list is unchanged: a steady catalog hands every cycle the same
 * list, and at 100k presets building a Map of 100k string keys cost more than the rest of the snapshot (it grows
 * faster than the presets, once the map no longer fits in the CPU's caches).
 */
class PresetSlots {
  private static readonly cache = new WeakMap<readonly PresetRow[], PresetSlots>();

  readonly slotOf = new Map<string, number>();
  /** Each slot's row. */
  readonly presets: PresetRow[] = [];
  /** The list as indexed, row by row, with each row's id: what a reuse checks the list against. */
  private readonly listed: PresetRow[];
  private readonly listedIds: string[];

  private constructor(list: readonly PresetRow[]) {
    this.listed = list.slice();
    this.listedIds = list.map((preset) => preset.presetId);
    for (const preset of list) {
      const slot = this.slotOf.get(preset.presetId);
      if (slot === undefined) {
        this.slotOf.set(preset.presetId, this.presets.length);
        this.presets.push(preset);
      } else this.presets[slot] = preset;
    }
  }

  /** The slots of `list`, reused when this very list, holding the very same rows and ids, was indexed before. */
  static of(list: readonly PresetRow[]): PresetSlots {
    const known = PresetSlots.cache.get(list);
    if (known?.indexes(list)) return known;
    const slots = new PresetSlots(list);
    PresetSlots.cache.set(list, slots);
    return slots;
  }

  /** A sequential identity check, far cheaper than hashing every id again. */
  private indexes(list: readonly PresetRow[]): boolean {
    if (list.length !== this.listed.length) return false;
    for (let i = 0; i < list.length; i++) {
      if (list[i] !== this.listed[i] || list[i].presetId !== this.listedIds[i]) return false;
    }
    return true;
  }
}

/**
 * Every row of one reconciliation snapshot, indexed by preset once so that a cycle over N presets costs
 * O(rows), not O(N × rows). Rows of presets the snapshot does not list (or with no preset) belong to no slice.
 * What the snapshot holds per preset sits in arrays by slot (PresetSlots), so that a cycle allocates little per
 * preset beyond its slice.
 */
export class GlobalSnapshot {
  private readonly slots: PresetSlots;
  private readonly running: RunningIndex;
  private readonly maxInstancesPerPreset: number | undefined;
  private readonly schedules: (PrebuildScheduleRow[] | undefined)[];
  /** Running prebuilds known as counts, per slot; `counted[s]` says whether slot s has any such row. */
  private readonly counted: Uint8Array;
  private readonly countedRunning: Int32Array;
  private readonly countedReady: Int32Array;
  private readonly countedExpired: Int32Array;
  private readonly starting: Int32Array;
  private readonly stopping: Int32Array;
  private readonly deleting: Int32Array;
  private readonly pendingCount: Int32Array;
  private readonly backoffs: (BackoffRow | undefined)[];
  private readonly demand: (DemandRow | undefined)[];
  private readonly hardLimited: ReadonlySet<string>;
  private readonly slices: (PresetSnapshot | undefined)[];

  /** `caps.maxInstancesPerPreset` clamps every preset's desired count (DESIGN.md rule 11); absent = no cap. */
  constructor(
    private readonly input: SnapshotInput,
    caps: { maxInstancesPerPreset?: number } = {},
  ) {
    this.maxInstancesPerPreset = caps.maxInstancesPerPreset;
    const slots = PresetSlots.of(input.presets);
    this.slots = slots;
    const slotOf = slots.slotOf;
    const n = slots.presets.length;
    this.schedules = new Array<PrebuildScheduleRow[] | undefined>(n);
    this.counted = new Uint8Array(n);
    this.countedRunning = new Int32Array(n);
    this.countedReady = new Int32Array(n);
    this.countedExpired = new Int32Array(n);
    this.starting = new Int32Array(n);
    this.stopping = new Int32Array(n);
    this.deleting = new Int32Array(n);
    this.pendingCount = new Int32Array(n);
    this.backoffs = new Array<BackoffRow | undefined>(n);
    this.demand = new Array<DemandRow | undefined>(n);
    this.slices = new Array<PresetSnapshot | undefined>(n);

    for (const schedule of input.schedules) {
      const slot = slotOf.get(schedule.presetId);
      if (slot !== undefined) (this.schedules[slot] ??= []).push(schedule);
    }
    this.running = new RunningIndex(input.running, n, (r) =>
      r.presetId === null ? -1 : (slotOf.get(r.presetId) ?? -1),
    );
    for (const c of input.runningCounts ?? []) {
      const slot = slotOf.get(c.presetId);
      if (slot === undefined) continue;
      this.counted[slot] = 1;
      this.countedRunning[slot] += c.running;
      this.countedReady[slot] += c.ready;
      this.countedExpired[slot] += c.expired;
    }
    for (const r of input.inProgress) {
      const slot = slotOf.get(r.presetId);
      if (slot === undefined) continue;
      if (r.transition === 'start') this.starting[slot] += r.count;
      else if (r.transition === 'stop') this.stopping[slot] += r.count;
      else this.deleting[slot] += r.count;
    }
    for (const r of input.pendingNonActive) {
      const slot = slotOf.get(r.presetId);
      if (slot !== undefined) this.pendingCount[slot] += r.count;
    }
    // The backoff query yields one row per preset; should two appear, the later failure decides.
    for (const r of input.backoffs) {
      const slot = slotOf.get(r.presetId);
      if (slot === undefined) continue;
      const known = this.backoffs[slot];
      if (known === undefined || known.lastFailedAt.getTime() <= r.lastFailedAt.getTime())
        this.backoffs[slot] = r;
    }
    for (const d of input.demand ?? []) {
      const slot = slotOf.get(d.presetId);
      if (slot !== undefined) this.demand[slot] = d;
    }
    this.hardLimited = new Set(input.hardLimitedPresetIds);
  }

  /** Ids of every preset the snapshot read, in snapshot order. */
  presetIds(): string[] {
    return this.slots.presets.map((preset) => preset.presetId);
  }

  get presets(): PresetRow[] {
    return this.slots.presets.slice();
  }

  hasPreset(presetId: string): boolean {
    return this.slots.slotOf.has(presetId);
  }

  /** Presets whose actions at `now` need the running rows the snapshot only counted (PresetSnapshot.needsRunningRows). */
  presetsNeedingRows(now: Date): string[] {
    const ids: string[] = [];
    for (let slot = 0; slot < this.slots.presets.length; slot++) {
      if (this.counted[slot] === 1 && this.sliceAt(slot).needsRunningRows(now))
        ids.push(this.sliceAt(slot).presetId);
    }
    return ids;
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
    const slot = this.slots.slotOf.get(presetId);
    if (slot === undefined) throw new UnknownPresetError(presetId);
    return this.sliceAt(slot);
  }

  /** Every preset's slice, in snapshot order. */
  presetSnapshots(): PresetSnapshot[] {
    const all = new Array<PresetSnapshot>(this.slots.presets.length);
    for (let slot = 0; slot < all.length; slot++) all[slot] = this.sliceAt(slot);
    return all;
  }

  private sliceAt(slot: number): PresetSnapshot {
    const known = this.slices[slot];
    if (known !== undefined) return known;
    const preset = this.slots.presets[slot];
    const starting = this.starting[slot];
    const stopping = this.stopping[slot];
    const deleting = this.deleting[slot];
    const slice = new PresetSnapshot({
      preset,
      schedules: this.schedules[slot] ?? NO_SCHEDULES,
      running: this.running.slice(slot),
      inProgress:
        starting === 0 && stopping === 0 && deleting === 0
          ? NOTHING_IN_PROGRESS
          : { starting, stopping, deleting },
      counted:
        this.counted[slot] === 1
          ? {
              running: this.countedRunning[slot],
              ready: this.countedReady[slot],
              expired: this.countedExpired[slot],
            }
          : undefined,
      pendingCount: this.pendingCount[slot],
      backoff: this.backoffs[slot] ?? null,
      demand: this.demand[slot],
      hardLimited: this.hardLimited.size > 0 && this.hardLimited.has(preset.presetId),
      maxInstancesPerPreset: this.maxInstancesPerPreset,
    });
    this.slices[slot] = slice;
    return slice;
  }
}
