import type { PresetRow, RunningPrebuildRow } from './types.js';

/**
 * The running rows of a whole snapshot grouped by preset slot, with the fields every cycle scans (creation time,
 * readiness) copied into flat typed arrays. A cycle over 100,000 rows spends its time chasing scattered Date
 * objects and allocating small per-preset arrays; one counting sort into a few big arrays avoids both.
 */
export class RunningIndex {
  readonly createdMs: Float64Array;
  readonly ready: Uint8Array;
  /** Row numbers grouped by slot: slot s owns `order[start[s]] … order[start[s + 1] - 1]`, in snapshot order. */
  readonly order: Int32Array;
  readonly start: Int32Array;

  /** `slotOf` gives a row's slot in [0, slots), or -1 for a row that belongs to no preset of the snapshot. */
  constructor(
    readonly rows: readonly RunningPrebuildRow[],
    slots: number,
    slotOf: (row: RunningPrebuildRow) => number,
  ) {
    const n = rows.length;
    const rowSlot = new Int32Array(n);
    const start = new Int32Array(slots + 1);
    this.createdMs = new Float64Array(n);
    this.ready = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      const slot = slotOf(row);
      rowSlot[i] = slot;
      if (slot < 0) continue;
      start[slot + 1]++;
      this.createdMs[i] = row.createdAt.getTime();
      this.ready[i] = row.ready ? 1 : 0;
    }
    for (let s = 0; s < slots; s++) start[s + 1] += start[s];
    const next = start.slice(0, slots);
    const order = new Int32Array(start[slots]);
    for (let i = 0; i < n; i++) if (rowSlot[i] >= 0) order[next[rowSlot[i]]++] = i;
    this.order = order;
    this.start = start;
  }

  slice(slot: number): RunningPrebuilds {
    return new RunningPrebuilds(this, this.start[slot], this.start[slot + 1]);
  }
}

/** One preset's running prebuilds: a window of a RunningIndex, addressed by position 0 … length - 1. */
export class RunningPrebuilds {
  readonly length: number;
  private rowList: RunningPrebuildRow[] | undefined = undefined;

  constructor(
    private readonly index: RunningIndex,
    private readonly from: number,
    to: number,
  ) {
    this.length = to - from;
  }

  static of(rows: readonly RunningPrebuildRow[]): RunningPrebuilds {
    return new RunningIndex(rows, 1, () => 0).slice(0);
  }

  /** The rows, in snapshot order; built on first use since a cycle itself only needs the ids it deletes. */
  get rows(): readonly RunningPrebuildRow[] {
    this.rowList ??= Array.from({ length: this.length }, (_, k) => this.row(k));
    return this.rowList;
  }

  row(k: number): RunningPrebuildRow {
    return this.index.rows[this.index.order[this.from + k]];
  }

  createdAtMs(k: number): number {
    return this.index.createdMs[this.index.order[this.from + k]];
  }

  isReady(k: number): boolean {
    return this.index.ready[this.index.order[this.from + k]] === 1;
  }

  /** Positions of the rows `keep` accepts. */
  positions(keep: (k: number) => boolean): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.length; k++) if (keep(k)) out.push(k);
    return out;
  }

  /**
   * Workspace ids in a total order: oldest first, ties by lowest id (string order), so that a delete does not
   * depend on the order the database returned rows in. With `notReadyFirst`, rows that are not ready come before
   * all ready ones: no user can be waiting on them, so removing them costs no claim.
   */
  idsInDeleteOrder(positions: number[], notReadyFirst: boolean): string[] {
    const { rows, order, createdMs, ready } = this.index;
    const from = this.from;
    positions.sort((a, b) => {
      const i = order[from + a];
      const j = order[from + b];
      if (notReadyFirst && ready[i] !== ready[j]) return ready[i] === 1 ? 1 : -1;
      const d = createdMs[i] - createdMs[j];
      if (d !== 0) return d;
      const x = rows[i].workspaceId;
      const y = rows[j].workspaceId;
      return x < y ? -1 : x > y ? 1 : 0;
    });
    return positions.map((k) => rows[order[from + k]].workspaceId);
  }
}

/** DESIGN.md rule 3 for one preset, with its dates read once. */
export class ExpiryRule {
  private readonly invalidatedMs: number;
  private readonly ttlMs: number;

  constructor(preset: Pick<PresetRow, 'lastInvalidatedAt' | 'ttlSeconds'>) {
    this.invalidatedMs = preset.lastInvalidatedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
    const ttl = preset.ttlSeconds;
    this.ttlMs = ttl !== null && ttl > 0 ? ttl * 1000 : Number.POSITIVE_INFINITY;
  }

  /** Created strictly before the invalidation, or strictly older than the TTL at `nowMs`. */
  isExpired(createdMs: number, nowMs: number): boolean {
    return createdMs < this.invalidatedMs || nowMs - createdMs > this.ttlMs;
  }
}
