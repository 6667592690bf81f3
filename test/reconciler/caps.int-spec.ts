import { afterEach, describe, expect, it } from '@jest/globals';
import { PrebuildsStatusService } from '../../src/prebuilds/admin/prebuilds-status.service.js';
import { TemplateCatalogService } from '../../src/prebuilds/catalog/template-catalog.service.js';
import { PrebuildsMetricsService } from '../../src/prebuilds/metrics/prebuilds-metrics.service.js';
import type { PrebuildsModuleOptions } from '../../src/prebuilds/prebuilds.options.js';
import {
  insertPrebuild,
  insertPreset,
  insertTemplate,
  insertVersion,
  setActiveVersion,
} from '../support/fixtures.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * DESIGN.md rule 11, through the module as a host mounts it: the plan and the status name the cap that clamped a
 * preset, a cycle does what the plan said (deletes never capped and first), a metric counts the clamps, and pending
 * prebuild jobs of deleted or deprecated templates are canceled. Each case gets a database of its own, since the
 * cluster caps look at the whole cluster.
 */

interface PlanPreset {
  presetId: string;
  state: { desired: number };
  actions: { type: string; count?: number; workspaceIds?: string[] }[];
  cappedBy: string | null;
  uncappedDesired: number;
  uncappedCreate: number;
}

const createOf = (preset: PlanPreset | undefined) =>
  preset?.actions.find((a) => a.type === 'create')?.count ?? 0;

describe('caps (DESIGN.md rule 11)', () => {
  let db: TestDatabase | undefined;
  let ctx: PrebuildsTestContext | undefined;

  async function start(options: PrebuildsModuleOptions) {
    db = await createTestDatabase();
    ctx = await createPrebuildsTestContext(db.url, options);
    const status = ctx.app.get(PrebuildsStatusService);
    return {
      ctx,
      ds: ctx.dataSource,
      status,
      plan: async () => (await status.plan()).presets as PlanPreset[],
      prebuildCount: async (presetId: string): Promise<number> =>
        (
          await ctx!.dataSource.query(
            `SELECT count(*)::int AS n FROM prebuilds.workspaces WHERE preset_id = $1 AND NOT deleted`,
            [presetId],
          )
        )[0].n,
      clamps: async (cap: string): Promise<number> => {
        const metric = await ctx!.app
          .get(PrebuildsMetricsService)
          .registry.getSingleMetricAsString('prebuilds_cap_clamps_total');
        const line = metric.split('\n').find((l) => l.startsWith(`prebuilds_cap_clamps_total{cap="${cap}"}`));
        return line ? Number(line.split(' ').pop()) : 0;
      },
    };
  }

  afterEach(async () => {
    await ctx?.close();
    await db?.drop();
    ctx = undefined;
    db = undefined;
  });

  it('clamps a desired count of 150 to maxInstancesPerPreset 100, says so in the plan and status, and counts it', async () => {
    const t = await start({ maxInstancesPerPreset: 100 });
    const { templateId, versionId } = await insertTemplate(t.ds, {});
    const presetId = await insertPreset(t.ds, versionId, { name: 'big', desiredInstances: 150 });

    const [planned] = await t.plan();
    expect(planned).toMatchObject({
      presetId,
      state: { desired: 100 },
      actions: [{ type: 'create', count: 100 }],
      cappedBy: 'maxInstancesPerPreset',
      uncappedDesired: 150,
      uncappedCreate: 100,
    });
    const status = (await t.status.status()).presets.find((p) => p.presetId === presetId);
    expect(status).toMatchObject({ desired: 100, cappedBy: 'maxInstancesPerPreset', uncappedDesired: 150 });

    const result = await t.ctx.reconciler.reconcileTemplate(templateId);
    expect(result.presets[0]).toMatchObject({
      actions: [{ type: 'create', count: 100 }],
      cappedBy: 'maxInstancesPerPreset',
    });
    expect(await t.prebuildCount(presetId)).toBe(100);
    expect(await t.clamps('maxInstancesPerPreset')).toBe(1);
  });

  it('shares maxCreatesPerCycle 5 among 3 presets wanting 4 each; the plan and the cycle agree', async () => {
    const t = await start({ maxCreatesPerCycle: 5 });
    const { versionId } = await insertTemplate(t.ds, {});
    const ids = [];
    for (const name of ['a', 'b', 'c'])
      ids.push(await insertPreset(t.ds, versionId, { name, desiredInstances: 4 }));

    const plan = await t.plan();
    const creates = ids.map((id) => createOf(plan.find((p) => p.presetId === id)));
    expect(creates.reduce((a, b) => a + b, 0)).toBe(5);
    for (const id of ids) {
      const preset = plan.find((p) => p.presetId === id) as PlanPreset;
      expect(preset.uncappedCreate).toBe(4);
      expect(preset.state.desired).toBe(4);
      // Every preset got less than it wanted, so each names the cap.
      expect(preset.cappedBy).toBe('maxCreatesPerCycle');
    }
    // Fair: nobody is starved while another gets everything.
    expect(Math.min(...creates)).toBeGreaterThanOrEqual(1);

    const result = await t.ctx.reconciler.reconcileAll();
    const written = await Promise.all(ids.map((id) => t.prebuildCount(id)));
    expect(written).toEqual(creates);
    expect(result.presets.map((p) => p.cappedBy)).toEqual(Array(3).fill('maxCreatesPerCycle'));
    expect(await t.clamps('maxCreatesPerCycle')).toBe(3);

    // The next cycle creates the rest (starting ones are subtracted, so nothing is asked twice).
    const next = await t.plan();
    expect(ids.map((id) => createOf(next.find((p) => p.presetId === id))).reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('holds creates to the gap under maxInFlightCreates (pending and running prebuild starts, cluster-wide)', async () => {
    const t = await start({ maxInFlightCreates: 3 });
    const busy = await insertTemplate(t.ds, {});
    const busyPreset = await insertPreset(t.ds, busy.versionId, { name: 'busy', desiredInstances: 2 });
    for (const jobStatus of ['pending', 'running'] as const) {
      await insertPrebuild(t.ds, { ...busy, presetId: busyPreset, jobStatus });
    }
    const { templateId, versionId } = await insertTemplate(t.ds, {});
    const presetId = await insertPreset(t.ds, versionId, { name: 'wants', desiredInstances: 4 });

    const planned = (await t.plan()).find((p) => p.presetId === presetId);
    expect(planned).toMatchObject({
      actions: [{ type: 'create', count: 1 }],
      cappedBy: 'maxInFlightCreates',
      uncappedCreate: 4,
    });
    // A template cycle still counts the other template's jobs: the cap is the cluster's.
    const result = await t.ctx.reconciler.reconcileTemplate(templateId);
    expect(result.presets[0]).toMatchObject({
      actions: [{ type: 'create', count: 1 }],
      cappedBy: 'maxInFlightCreates',
    });
    expect(await t.prebuildCount(presetId)).toBe(1);
    const after = (await t.plan()).find((p) => p.presetId === presetId);
    expect(after).toMatchObject({ actions: [], cappedBy: 'maxInFlightCreates', uncappedCreate: 3 });
  });

  it('holds creates under maxPrebuilds, counting the room that this cycle’s deletes free (deletes go first)', async () => {
    const t = await start({ maxPrebuilds: 4 });
    const { templateId, versionId: v1 } = await insertTemplate(t.ds, {});
    const old = await insertPreset(t.ds, v1, { name: 'old', desiredInstances: 1 });
    const doomed = await insertPrebuild(t.ds, { templateId, versionId: v1, presetId: old });
    const v2 = await insertVersion(t.ds, templateId, {});
    await setActiveVersion(t.ds, templateId, v2);
    const full = await insertPreset(t.ds, v2, { name: 'full', desiredInstances: 3 });
    for (let i = 0; i < 3; i++) await insertPrebuild(t.ds, { templateId, versionId: v2, presetId: full });
    const hungry = await insertPreset(t.ds, v2, { name: 'hungry', desiredInstances: 3 });

    // 4 live prebuilds, the cap: only the one deleted this cycle makes room.
    const plan = await t.plan();
    expect(plan.find((p) => p.presetId === old)).toMatchObject({
      actions: [{ type: 'delete', workspaceIds: [doomed] }],
      cappedBy: null,
    });
    expect(plan.find((p) => p.presetId === hungry)).toMatchObject({
      actions: [{ type: 'create', count: 1 }],
      cappedBy: 'maxPrebuilds',
      uncappedCreate: 3,
    });

    const result = await t.ctx.reconciler.reconcileTemplate(templateId);
    expect(result.presets.find((p) => p.presetId === old)?.actions).toEqual([
      { type: 'delete', workspaceIds: [doomed] },
    ]);
    expect(await t.prebuildCount(hungry)).toBe(1);
    const [{ n }] = await t.ds.query(
      `SELECT count(*)::int AS n FROM prebuilds.workspaces w JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id
        WHERE NOT w.deleted AND b.transition <> 'delete'`,
    );
    expect(n).toBe(4);
  });

  it('never caps deletes: with maxCreatesPerCycle 0 an extraneous prebuild still goes', async () => {
    const t = await start({ maxCreatesPerCycle: 0 });
    const { templateId, versionId } = await insertTemplate(t.ds, {});
    const presetId = await insertPreset(t.ds, versionId, { name: 'shrink', desiredInstances: 1 });
    const now = t.ctx.clock.now().getTime();
    const older = await insertPrebuild(t.ds, {
      templateId,
      versionId,
      presetId,
      createdAt: new Date(now - 60_000),
    });
    await insertPrebuild(t.ds, { templateId, versionId, presetId, createdAt: new Date(now - 1_000) });
    const other = await insertPreset(t.ds, versionId, { name: 'grow', desiredInstances: 2 });

    const result = await t.ctx.reconciler.reconcileTemplate(templateId);
    expect(result.presets.find((p) => p.presetId === presetId)?.actions).toEqual([
      { type: 'delete', workspaceIds: [older] },
    ]);
    expect(result.presets.find((p) => p.presetId === other)).toMatchObject({
      actions: [],
      cappedBy: 'maxCreatesPerCycle',
    });
    expect(await t.prebuildCount(other)).toBe(0);
  });

  it.each(['deleted', 'deprecated'] as const)(
    'cancels the pending, unacquired prebuild jobs of a %s template and leaves acquired ones to their provisioner',
    async (how) => {
      const t = await start({});
      const catalog = t.ctx.app.get(TemplateCatalogService);
      const { templateId, versionId } = await insertTemplate(t.ds, {});
      const presetId = await insertPreset(t.ds, versionId, { name: 'p', desiredInstances: 3 });
      const pending = [];
      for (let i = 0; i < 2; i++)
        pending.push(await insertPrebuild(t.ds, { templateId, versionId, presetId, jobStatus: 'pending' }));
      const acquired = await insertPrebuild(t.ds, { templateId, versionId, presetId, jobStatus: 'running' });
      if (how === 'deleted') await catalog.deleteTemplate(templateId);
      else await catalog.deprecateTemplate(templateId, 'use another one');

      const [planned] = await t.plan();
      expect(planned).toMatchObject({ presetId, actions: [{ type: 'cancel_pending' }] });
      const result = await t.ctx.reconciler.reconcileTemplate(templateId);
      expect(result.presets[0].actions).toEqual([{ type: 'cancel_pending' }]);

      const rows: { id: string; deleted: boolean; status: string }[] = await t.ds.query(
        `SELECT w.id, w.deleted, j.job_status AS status FROM prebuilds.workspaces w
           JOIN prebuilds.workspace_builds b ON b.workspace_id = w.id AND b.build_number = 1
           JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id
          WHERE w.preset_id = $1`,
        [presetId],
      );
      const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
      for (const id of pending) expect(byId[id]).toEqual({ id, deleted: true, status: 'canceled' });
      expect(byId[acquired]).toEqual({ id: acquired, deleted: false, status: 'running' });
      // Nothing left to cancel: the next plan asks for nothing more of it.
      expect((await t.plan()).find((p) => p.presetId === presetId)?.actions ?? []).toEqual([]);
    },
  );
});
