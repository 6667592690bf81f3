import { describe, expect, it } from '@jest/globals';
import { allocateCreates } from './create-caps.js';
import { planCycle } from './cycle-plan.js';
import { GlobalSnapshot } from './global-snapshot.js';
import type { PresetRow } from './types.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const UNCAPPED = { maxCreatesPerCycle: Infinity, maxInFlightCreates: Infinity, maxPrebuilds: Infinity };
const EMPTY = { inFlightCreates: 0, prebuilds: 0 };

function preset(presetId: string, desiredInstances: number): PresetRow {
  return {
    presetId,
    presetName: presetId,
    templateId: 't',
    templateName: 't',
    templateVersionId: 'v',
    organizationId: 'o',
    usingActiveVersion: true,
    templateDeleted: false,
    templateDeprecated: false,
    desiredInstances,
    ttlSeconds: null,
    lastInvalidatedAt: null,
    schedulingTimezone: '',
    prebuildStatus: 'healthy',
  };
}

function snapshot(presets: PresetRow[], maxInstancesPerPreset?: number) {
  return new GlobalSnapshot(
    {
      presets,
      schedules: [],
      running: [],
      inProgress: [],
      pendingNonActive: [],
      backoffs: [],
      hardLimitedPresetIds: [],
    },
    { maxInstancesPerPreset },
  );
}

describe('allocateCreates', () => {
  it('grants every want when they fit', () => {
    const { grants, limitedBy } = allocateCreates(
      [
        { presetId: 'a', wanted: 2 },
        { presetId: 'b', wanted: 3 },
      ],
      { ...UNCAPPED, maxCreatesPerCycle: 5 },
      EMPTY,
    );
    expect(limitedBy).toBeNull();
    expect([...grants.values()].map((g) => [g.granted, g.cappedBy])).toEqual([
      [2, null],
      [3, null],
    ]);
  });

  it('shares a short budget fairly and names the tightest cap', () => {
    const { grants } = allocateCreates(
      [
        { presetId: 'a', wanted: 1 },
        { presetId: 'b', wanted: 10 },
        { presetId: 'c', wanted: 10 },
      ],
      { maxCreatesPerCycle: 100, maxInFlightCreates: 10, maxPrebuilds: 1000 },
      { inFlightCreates: 3, prebuilds: 0 },
    );
    expect([...grants.values()].map((g) => [g.presetId, g.granted, g.cappedBy])).toEqual([
      ['a', 1, null],
      ['b', 3, 'maxInFlightCreates'],
      ['c', 3, 'maxInFlightCreates'],
    ]);
  });

  it('counts this cycle’s deletes as room under maxPrebuilds, and never goes negative', () => {
    const wants = [{ presetId: 'a', wanted: 5 }];
    const caps = { ...UNCAPPED, maxPrebuilds: 10 };
    expect(
      allocateCreates(wants, caps, { inFlightCreates: 0, prebuilds: 10 }, 2).grants.get('a'),
    ).toMatchObject({
      granted: 2,
      cappedBy: 'maxPrebuilds',
    });
    expect(allocateCreates(wants, caps, { inFlightCreates: 0, prebuilds: 50 }).grants.get('a')?.granted).toBe(
      0,
    );
  });
});

describe('planCycle', () => {
  it('clamps desired to maxInstancesPerPreset in the engine and reports the uncapped figure', () => {
    const global = snapshot([preset('big', 150), preset('small', 3)], 100);
    const big = global.filterByPreset('big');
    expect(big.desiredInstances(NOW)).toBe(100);
    expect(big.uncappedDesiredInstances(NOW)).toBe(150);
    expect(big.calculateActions(NOW, 0)).toEqual([{ type: 'create', count: 100 }]);
    const { presets } = planCycle(global.presetSnapshots(), NOW, 0, UNCAPPED, EMPTY);
    expect(presets.map((p) => [p.presetId, p.state.desired, p.uncappedDesired, p.cappedBy])).toEqual([
      ['big', 100, 150, 'maxInstancesPerPreset'],
      ['small', 3, 3, null],
    ]);
  });

  it('names the cluster cap when both clamp, keeps both in capsApplied, and drops a create cut to zero', () => {
    const global = snapshot([preset('big', 150), preset('late', 2)], 100);
    const { presets } = planCycle(
      global.presetSnapshots(),
      NOW,
      0,
      { ...UNCAPPED, maxCreatesPerCycle: 1 },
      EMPTY,
    );
    expect(presets.map((p) => [p.actions, p.cappedBy, p.capsApplied])).toEqual([
      [[{ type: 'create', count: 1 }], 'maxCreatesPerCycle', ['maxInstancesPerPreset', 'maxCreatesPerCycle']],
      [[], 'maxCreatesPerCycle', ['maxCreatesPerCycle']],
    ]);
  });

  it('without cluster totals applies only the per-preset cap', () => {
    const global = snapshot([preset('a', 4)]);
    const { presets, allocation } = planCycle(
      global.presetSnapshots(),
      NOW,
      0,
      { ...UNCAPPED, maxCreatesPerCycle: 0 },
      null,
    );
    expect(allocation).toBeNull();
    expect(presets[0].actions).toEqual([{ type: 'create', count: 4 }]);
  });
});
