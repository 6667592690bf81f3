import {
  allocateCreates,
  type CapName,
  type ClusterTotals,
  type CreateAllocation,
  type CreateCaps,
} from './create-caps.js';
import type { PresetSnapshot } from './preset-snapshot.js';
import type { ReconciliationAction, ReconciliationState } from './types.js';

/** One preset's part of a cycle, caps applied: what the plan shows and what the cycle carries out. */
export interface PresetPlan {
  presetId: string;
  state: ReconciliationState;
  /** The engine's actions with the create clamped by the cluster caps (dropped when nothing is left of it). */
  actions: ReconciliationAction[];
  /** The desired count before maxInstancesPerPreset. */
  uncappedDesired: number;
  /** The engine's create count before the cluster caps (0 when it asks for none). */
  uncappedCreate: number;
  /** The cap that clamped this preset last (a cluster cap wins over the per-preset one), or null. */
  cappedBy: CapName | null;
  /** Every cap that clamped this preset, per-preset first. */
  capsApplied: CapName[];
}

/** The number of prebuilds a set of actions deletes. */
export function deleteCount(actions: readonly ReconciliationAction[]): number {
  return actions.reduce((sum, a) => sum + (a.type === 'delete' ? a.workspaceIds.length : 0), 0);
}

/**
 * Plans a cycle over the presets given: each preset's actions from the engine, then the cluster caps over every
 * create (deletes are never capped and count first: what they remove frees room under maxPrebuilds). Without
 * `totals` the cluster caps are not applied (nothing wants a create, or the caller does not cap).
 */
export function planCycle(
  presets: readonly PresetSnapshot[],
  now: Date,
  backoffIntervalMs: number,
  caps: CreateCaps,
  totals: ClusterTotals | null,
): { presets: PresetPlan[]; allocation: CreateAllocation | null } {
  const planned = presets.map((snapshot) => ({
    snapshot,
    actions: snapshot.calculateActions(now, backoffIntervalMs),
  }));
  const requests = planned.map(({ snapshot, actions }) => ({
    presetId: snapshot.presetId,
    wanted: actions.reduce((sum, a) => sum + (a.type === 'create' ? a.count : 0), 0),
  }));
  const deletes = planned.reduce((sum, { actions }) => sum + deleteCount(actions), 0);
  const allocation = totals === null ? null : allocateCreates(requests, caps, totals, deletes);
  return {
    allocation,
    presets: planned.map(({ snapshot, actions }, index) => {
      const wanted = requests[index].wanted;
      const grant = allocation?.grants.get(snapshot.presetId);
      const granted = grant ? grant.granted : wanted;
      const capped: ReconciliationAction[] = [];
      for (const action of actions) {
        if (action.type !== 'create') capped.push(action);
        else if (granted > 0) capped.push({ type: 'create', count: granted });
      }
      const capsApplied: CapName[] = [];
      const perPreset = snapshot.desiredCappedBy(now);
      if (perPreset) capsApplied.push(perPreset);
      if (grant?.cappedBy) capsApplied.push(grant.cappedBy);
      return {
        presetId: snapshot.presetId,
        state: snapshot.calculateState(now),
        actions: capped,
        uncappedDesired: snapshot.uncappedDesiredInstances(now),
        uncappedCreate: wanted,
        cappedBy: capsApplied.length > 0 ? capsApplied[capsApplied.length - 1] : null,
        capsApplied,
      };
    }),
  };
}
