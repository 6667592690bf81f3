/**
 * The caps of DESIGN.md rule 11, as pure functions: the per-preset cap clamps a preset's desired count (the engine
 * applies it, see PresetSnapshot), the cluster caps share one cycle's creates among the presets that want some.
 * Deletes are never capped: they are not inputs here, except that the prebuilds a cycle deletes free room under
 * `maxPrebuilds` (they go first).
 */

export type CapName = 'maxInstancesPerPreset' | 'maxCreatesPerCycle' | 'maxInFlightCreates' | 'maxPrebuilds';

/** Every cap, in the order used to name one when several bind equally. */
export const CAP_NAMES: readonly CapName[] = Object.freeze([
  'maxInstancesPerPreset',
  'maxCreatesPerCycle',
  'maxInFlightCreates',
  'maxPrebuilds',
]);

export interface CreateCaps {
  maxCreatesPerCycle: number;
  maxInFlightCreates: number;
  maxPrebuilds: number;
}

/** Cluster-wide counts the cluster caps compare against (read in the cycle's snapshot, cluster-wide). */
export interface ClusterTotals {
  /** Prebuild start jobs pending or running. */
  inFlightCreates: number;
  /** Live prebuild workspaces (failed and stopped included, those being deleted excluded). */
  prebuilds: number;
}

export interface CreateRequestInput {
  presetId: string;
  /** What the engine's `create` action asks for (0 when it asks for none). */
  wanted: number;
}

export interface CreateGrant {
  presetId: string;
  wanted: number;
  granted: number;
  /** The cluster cap that held some of `wanted` back, or null. */
  cappedBy: Exclude<CapName, 'maxInstancesPerPreset'> | null;
}

export interface CreateAllocation {
  /** Per preset that wanted creates, in the order given. */
  grants: Map<string, CreateGrant>;
  /** Creates the cycle may write in all, and the cap that decides it (null when the wants fit). */
  budget: number;
  limitedBy: Exclude<CapName, 'maxInstancesPerPreset'> | null;
}

/** Room left under each cluster cap; deletes of this cycle free room under maxPrebuilds. */
export function capRoom(
  caps: CreateCaps,
  totals: ClusterTotals,
  deletesThisCycle: number,
): { cap: Exclude<CapName, 'maxInstancesPerPreset'>; room: number }[] {
  return [
    { cap: 'maxCreatesPerCycle', room: caps.maxCreatesPerCycle },
    { cap: 'maxInFlightCreates', room: caps.maxInFlightCreates - totals.inFlightCreates },
    { cap: 'maxPrebuilds', room: caps.maxPrebuilds - Math.max(totals.prebuilds - deletesThisCycle, 0) },
  ];
}

/**
 * Shares the cycle's budget (the tightest cluster cap) among the presets fairly: every preset gets an equal share,
 * what a preset does not need goes to the others, and an indivisible remainder goes in the order given (the
 * snapshot's order, so the plan and the cycle agree). A preset granted less than it wanted is `cappedBy` the cap
 * that set the budget.
 */
export function allocateCreates(
  requests: readonly CreateRequestInput[],
  caps: CreateCaps,
  totals: ClusterTotals,
  deletesThisCycle = 0,
): CreateAllocation {
  let limitedBy: CreateAllocation['limitedBy'] = null;
  let budget = Number.POSITIVE_INFINITY;
  for (const { cap, room } of capRoom(caps, totals, deletesThisCycle)) {
    const value = Math.max(Math.floor(room), 0);
    if (value < budget) {
      budget = value;
      limitedBy = cap;
    }
  }
  const wanting = requests.filter((r) => r.wanted > 0);
  const totalWanted = wanting.reduce((sum, r) => sum + r.wanted, 0);
  const granted = new Map<string, number>(wanting.map((r) => [r.presetId, 0]));
  if (totalWanted <= budget) {
    for (const r of wanting) granted.set(r.presetId, r.wanted);
    limitedBy = null;
  } else {
    let remaining = budget;
    let open = wanting;
    while (remaining > 0 && open.length > 0) {
      const share = Math.max(1, Math.floor(remaining / open.length));
      const next: CreateRequestInput[] = [];
      for (const r of open) {
        if (remaining === 0) break;
        const have = granted.get(r.presetId) as number;
        const give = Math.min(share, r.wanted - have, remaining);
        granted.set(r.presetId, have + give);
        remaining -= give;
        if (have + give < r.wanted) next.push(r);
      }
      open = next;
    }
  }
  const grants = new Map<string, CreateGrant>();
  for (const r of wanting) {
    const g = granted.get(r.presetId) as number;
    grants.set(r.presetId, {
      presetId: r.presetId,
      wanted: r.wanted,
      granted: g,
      cappedBy: g < r.wanted ? limitedBy : null,
    });
  }
  return { grants, budget, limitedBy };
}
