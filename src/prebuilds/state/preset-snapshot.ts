import { NO_DEMAND, type WindowCounts } from './demand.js';
import {
  applyTargetExpression,
  nonNegative,
  resolveDesiredTarget,
  targetExpressionOf,
  usableSchedules,
  type DesiredTarget,
  type ExpressionOutcome,
} from './desired-target.js';
import { ExpiryRule, RunningPrebuilds } from './running-prebuilds.js';
import type {
  BackoffRow,
  CreationBlock,
  DesiredSource,
  PrebuildScheduleRow,
  PresetRow,
  ReconciliationAction,
  ReconciliationState,
  RunningPrebuildRow,
} from './types.js';

export interface InProgressCounts {
  starting: number;
  stopping: number;
  deleting: number;
}

/** Everything one preset needs, already picked out of the global snapshot. */
export interface PresetSnapshotInput {
  preset: PresetRow;
  schedules: readonly PrebuildScheduleRow[];
  /** Rows, or the index GlobalSnapshot builds for them. */
  running: readonly RunningPrebuildRow[] | RunningPrebuilds;
  inProgress: InProgressCounts;
  /** Pending, unacquired first start builds on a non-active version. */
  pendingCount: number;
  backoff: BackoffRow | null;
  /** In the snapshot's `hardLimitedPresetIds`. */
  hardLimited: boolean;
  /** The per-preset cap of DESIGN.md rule 11: the desired count is clamped to it (default: no cap). */
  maxInstancesPerPreset?: number;
  /** Running prebuilds known only as counts (types.ts RunningCountRow), beside `running`; default none. */
  counted?: RunningCounts;
  /** Claims and misses in the windows of rule 12 (types.ts DemandRow); default none. */
  demand?: { claims: WindowCounts; misses: WindowCounts };
}

export interface RunningCounts {
  running: number;
  ready: number;
  expired: number;
}

const NONE_COUNTED: RunningCounts = Object.freeze({ running: 0, ready: 0, expired: 0 });

const BASE_ZERO: DesiredTarget = Object.freeze({ desired: 0, source: 'base' });

/** What a preset looks like at one `now`; computed once per instant because state and actions both need it. */
interface AtNow {
  nowMs: number;
  target: DesiredTarget;
  /** The target before maxInstancesPerPreset. */
  uncappedDesired: number;
  state: ReconciliationState;
}

/** One preset's slice of a snapshot, and the pure rules of DESIGN.md that turn it into state and actions. */
export class PresetSnapshot {
  readonly preset: PresetRow;
  readonly schedules: readonly PrebuildScheduleRow[];
  readonly inProgress: Readonly<InProgressCounts>;
  readonly pendingCount: number;
  readonly backoff: BackoffRow | null;
  readonly hardLimited: boolean;
  readonly maxInstancesPerPreset: number;

  /** Running prebuilds known only as counts; see needsRunningRows. */
  readonly counted: Readonly<RunningCounts>;
  readonly claims: WindowCounts;
  readonly misses: WindowCounts;

  private readonly prebuilds: RunningPrebuilds;
  private readonly expiry: ExpiryRule;
  private readonly active: boolean;
  private usable: readonly PrebuildScheduleRow[] | undefined = undefined;
  private atNow: AtNow | undefined = undefined;

  constructor(input: PresetSnapshotInput) {
    const p = input.preset;
    this.preset = p;
    this.schedules = input.schedules;
    this.prebuilds =
      input.running instanceof RunningPrebuilds ? input.running : RunningPrebuilds.of(input.running);
    this.inProgress = input.inProgress;
    this.pendingCount = input.pendingCount;
    this.backoff = input.backoff;
    this.hardLimited = input.hardLimited;
    this.maxInstancesPerPreset = input.maxInstancesPerPreset ?? Number.POSITIVE_INFINITY;
    this.counted = input.counted ?? NONE_COUNTED;
    this.claims = input.demand?.claims ?? NO_DEMAND;
    this.misses = input.demand?.misses ?? NO_DEMAND;
    this.expiry = new ExpiryRule(p);
    this.active = p.usingActiveVersion && !p.templateDeleted && !p.templateDeprecated;
  }

  /** The running prebuilds read as rows (all of them unless the snapshot counted some), expired ones included. */
  get running(): readonly RunningPrebuildRow[] {
    return this.prebuilds.rows;
  }

  get presetId(): string {
    return this.preset.presetId;
  }

  isActive(): boolean {
    return this.active;
  }

  /** Why creation is off whatever the counts say (DESIGN.md rules 7 and 8), or null. */
  creationBlock(): CreationBlock | null {
    if (this.hardLimited || this.preset.prebuildStatus === 'hard_limited') return 'hard_limited';
    if (this.preset.prebuildStatus === 'validation_failed') return 'validation_failed';
    return null;
  }

  desiredInstances(now: Date): number {
    return this.at(now).target.desired;
  }

  /** The desired count before the per-preset cap clamped it (equal to desiredInstances when it did not). */
  uncappedDesiredInstances(now: Date): number {
    return this.at(now).uncappedDesired;
  }

  /** 'maxInstancesPerPreset' when that cap clamped the desired count at `now`, else null. */
  desiredCappedBy(now: Date): 'maxInstancesPerPreset' | null {
    const at = this.at(now);
    return at.uncappedDesired > at.target.desired ? 'maxInstancesPerPreset' : null;
  }

  /** `'base'`, `'expression'`, or the cron of the schedule that set the target at `now`. */
  desiredSource(now: Date): DesiredSource {
    return this.at(now).target.source;
  }

  /** What the preset's target expression gave at `now` (or why it failed); null without one, or when inactive. */
  expressionOutcome(now: Date): ExpressionOutcome | null {
    return this.at(now).target.expression ?? null;
  }

  isExpired(row: RunningPrebuildRow, now: Date): boolean {
    return this.expiry.isExpired(row.createdAt.getTime(), now.getTime());
  }

  /** Running prebuilds that are expired at `now`, in snapshot order. */
  expiredPrebuilds(now: Date): RunningPrebuildRow[] {
    return this.expiredPositions(now.getTime(), true).map((k) => this.prebuilds.row(k));
  }

  /** Running prebuilds that are not expired at `now`, in snapshot order. */
  freshPrebuilds(now: Date): RunningPrebuildRow[] {
    return this.expiredPositions(now.getTime(), false).map((k) => this.prebuilds.row(k));
  }

  calculateState(now: Date): ReconciliationState {
    return { ...this.at(now).state };
  }

  /** The end of the failure backoff when `now` is inside it (the boundary `now == until` is inside), else null. */
  backoffUntil(now: Date, backoffIntervalMs: number): Date | null {
    const b = this.backoff;
    if (b === null || !(b.numFailed > 0)) return null;
    const untilMs = b.lastFailedAt.getTime() + b.numFailed * backoffIntervalMs;
    return now.getTime() <= untilMs ? new Date(untilMs) : null;
  }

  /**
   * Whether this preset's running prebuilds must be read as rows where the snapshot only counted them: some would
   * be deleted at `now` (the preset is inactive, or some are expired or extraneous; a delete names workspaces), or
   * the preset has a TTL (its counts of expired hold only at the instant they were read).
   */
  needsRunningRows(now: Date): boolean {
    if (this.counted.running === 0) return false;
    if (this.preset.ttlSeconds !== null && this.preset.ttlSeconds > 0) return true;
    const { state } = this.at(now);
    return !this.active || state.expired > 0 || state.extraneous > 0;
  }

  calculateActions(now: Date, backoffIntervalMs: number): ReconciliationAction[] {
    if (this.needsRunningRows(now)) {
      // A reader that skipped GlobalSnapshot.withRunningRows; deleting fewer than the rules say would be silent.
      throw new Error(`preset ${this.presetId}: deletes need the running rows the snapshot only counted`);
    }
    const { nowMs, state } = this.at(now);
    const prebuilds = this.prebuilds;
    const actions: ReconciliationAction[] = [];

    if (!this.active) {
      if (this.pendingCount > 0) actions.push({ type: 'cancel_pending' });
      // Unlike Coder, expired prebuilds of an inactive preset go too: nothing else would ever remove them.
      if (prebuilds.length > 0) {
        const all = prebuilds.positions(() => true);
        actions.push({ type: 'delete', workspaceIds: prebuilds.idsInDeleteOrder(all, false) });
      }
      return actions;
    }

    if (state.expired > 0) {
      const expired = this.expiredPositions(nowMs, true);
      actions.push({ type: 'delete', workspaceIds: prebuilds.idsInDeleteOrder(expired, false) });
    }
    if (state.extraneous > 0) {
      const ids = prebuilds.idsInDeleteOrder(this.expiredPositions(nowMs, false), true);
      actions.push({ type: 'delete', workspaceIds: ids.slice(0, state.extraneous) });
    }

    // Stopping and deleting prebuilds are not subtracted: they will never be claimable, so replace them now.
    const toCreate = Math.max(state.desired - (state.actual - state.expired) - state.starting, 0);
    if (toCreate > 0 && this.creationBlock() === null) {
      const until = this.backoffUntil(now, backoffIntervalMs);
      actions.push(until === null ? { type: 'create', count: toCreate } : { type: 'backoff', until });
    }
    return actions;
  }

  /** Nothing this preset could ever ask for: inactive, no running prebuild (expired included), nothing pending. */
  canSkipReconciliation(): boolean {
    return (
      !this.active && this.prebuilds.length === 0 && this.counted.running === 0 && this.pendingCount === 0
    );
  }

  private expiredPositions(nowMs: number, expired: boolean): number[] {
    const { prebuilds, expiry } = this;
    return prebuilds.positions((k) => expiry.isExpired(prebuilds.createdAtMs(k), nowMs) === expired);
  }

  private at(now: Date): AtNow {
    const nowMs = now.getTime();
    if (this.atNow !== undefined && this.atNow.nowMs === nowMs) return this.atNow;

    const { prebuilds, expiry, counted } = this;
    let expired = counted.expired;
    let freshReady = counted.ready;
    for (let i = 0; i < prebuilds.length; i++) {
      if (expiry.isExpired(prebuilds.createdAtMs(i), nowMs)) expired++;
      else if (prebuilds.isReady(i)) freshReady++;
    }
    const { starting, stopping, deleting } = this.inProgress;
    const actual = prebuilds.length + counted.running;
    let target: DesiredTarget = BASE_ZERO;
    if (this.active) {
      this.usable ??= usableSchedules(this.preset.schedulingTimezone, this.schedules);
      target = resolveDesiredTarget(this.preset, this.usable, now);
      const expression = targetExpressionOf(this.preset);
      if (expression !== null) {
        // The expression sees what this cycle sees: the same counts the state below reports.
        target = applyTargetExpression(expression, target, this.preset, now, {
          running: actual - expired,
          eligible: freshReady,
          starting: nonNegative(starting),
          stopping: nonNegative(stopping),
          deleting: nonNegative(deleting),
          expired,
          claims: this.claims,
          misses: this.misses,
        });
      }
    }
    const uncappedDesired = target.desired;
    if (uncappedDesired > this.maxInstancesPerPreset) {
      target = { ...target, desired: Math.max(Math.floor(this.maxInstancesPerPreset), 0) };
    }
    const state: ReconciliationState = {
      desired: target.desired,
      actual,
      eligible: this.active ? freshReady : 0,
      extraneous: this.active ? Math.max(actual - expired - target.desired, 0) : 0,
      expired,
      starting: nonNegative(starting),
      stopping: nonNegative(stopping),
      deleting: nonNegative(deleting),
    };
    this.atNow = { nowMs, target, uncappedDesired, state };
    return this.atNow;
  }
}
