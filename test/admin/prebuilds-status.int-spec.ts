import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrebuildsAdminService } from '../../src/prebuilds/admin/prebuilds-admin.service.js';
import { PrebuildsStatusService } from '../../src/prebuilds/admin/prebuilds-status.service.js';
import {
  insertBuild,
  insertPrebuild,
  insertPreset,
  insertTemplate,
  insertVersion,
  insertWorkspace,
  setActiveVersion,
} from '../support/fixtures.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { TemplateCatalogService } from '../../src/prebuilds/catalog/template-catalog.service.js';

describe('prebuilds status, plan and admin actions', () => {
  let db: TestDatabase;
  let ctx: PrebuildsTestContext;
  let status: PrebuildsStatusService;
  let admin: PrebuildsAdminService;
  let catalog: TemplateCatalogService;
  let templateId: string;
  let presetId: string;
  let oldPresetId: string;
  let failed: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = await createPrebuildsTestContext(db.url);
    status = ctx.app.get(PrebuildsStatusService);
    admin = ctx.app.get(PrebuildsAdminService);
    catalog = ctx.app.get(TemplateCatalogService);
    const ds = ctx.dataSource;
    const now = ctx.clock.now().getTime();
    ({ templateId } = await insertTemplate(ds, { name: 'status-tpl' }));
    const [{ v1 }] = await ds.query(`SELECT active_version_id AS v1 FROM prebuilds.templates WHERE id = $1`, [
      templateId,
    ]);
    oldPresetId = await insertPreset(ds, v1, { name: 'old', desiredInstances: 1 });
    await insertPrebuild(ds, {
      templateId,
      versionId: v1,
      presetId: oldPresetId,
      createdAt: new Date(now - 60_000),
    });
    const v2 = await insertVersion(ds, templateId, {});
    await setActiveVersion(ds, templateId, v2);
    presetId = await insertPreset(ds, v2, {
      name: 'current',
      desiredInstances: 3,
      ttlSeconds: 600,
      timezone: 'UTC',
      schedules: [{ cron: '* 0-23 * * *', instances: 2 }],
    });
    await insertPrebuild(ds, { templateId, versionId: v2, presetId, createdAt: new Date(now - 60_000) });
    await insertPrebuild(ds, { templateId, versionId: v2, presetId, createdAt: new Date(now - 3_600_000) }); // expired
    failed = await insertPrebuild(ds, {
      templateId,
      versionId: v2,
      presetId,
      jobStatus: 'failed',
      createdAt: new Date(now - 7_200_000),
    });
    const stopped = await insertWorkspace(ds, { templateId, presetId });
    await insertBuild(ds, {
      workspaceId: stopped,
      transition: 'start',
      jobStatus: 'succeeded',
      templateVersionId: v2,
      presetId,
    });
    await insertBuild(ds, {
      workspaceId: stopped,
      transition: 'stop',
      jobStatus: 'succeeded',
      templateVersionId: v2,
      presetId,
    });
  });
  afterAll(async () => {
    await ctx.close();
    await db.drop();
  });

  it('reports every active preset and inactive ones that still have prebuilds, computed live', async () => {
    const report = await status.status();
    expect(report.paused).toBe(false);
    const byName = Object.fromEntries(report.presets.map((p) => [p.presetName, p]));
    expect(byName.current).toMatchObject({
      presetId,
      templateId,
      templateName: 'status-tpl',
      active: true,
      status: 'healthy',
      desiredSource: '* 0-23 * * *',
      desired: 2,
      actual: 2,
      expired: 1,
      eligible: 1,
      extraneous: 0,
      failed: 1,
      stopped: 1,
      backoffUntil: null,
    });
    expect(byName.old).toMatchObject({
      presetId: oldPresetId,
      active: false,
      desired: 0,
      actual: 1,
      desiredSource: 'base',
    });
  });

  it('plans without executing anything, and says when the loop is paused', async () => {
    await admin.setPaused(true, 'test');
    const before = await ctx.dataSource.query(`SELECT count(*)::int AS n FROM prebuilds.workspace_builds`);
    const plan = await status.plan();
    expect(plan.paused).toBe(true);
    const byPreset = Object.fromEntries(plan.presets.map((p) => [p.presetId, p.actions]));
    expect(byPreset[presetId]).toEqual([
      { type: 'delete', workspaceIds: [expect.any(String)] },
      { type: 'create', count: 1 },
    ]);
    expect(byPreset[oldPresetId]).toEqual([{ type: 'delete', workspaceIds: [expect.any(String)] }]);
    expect(await ctx.dataSource.query(`SELECT count(*)::int AS n FROM prebuilds.workspace_builds`)).toEqual(
      before,
    );
    await admin.setPaused(false, 'test');
    expect(await admin.getSettings()).toEqual({ reconciliationPaused: false });
  });

  it("lists a preset's prebuilds with their latest build and expiry", async () => {
    const rows = await status.presetPrebuilds(presetId);
    expect(rows).toHaveLength(4);
    expect(rows.filter((r) => r.expired)).toHaveLength(1);
    expect(rows.find((r) => r.id === failed)).toMatchObject({
      transition: 'start',
      jobStatus: 'failed',
      expired: false,
    });
    await expect(status.presetPrebuilds('00000000-0000-4000-8000-00000000dead')).rejects.toMatchObject({
      code: 'PRESET_NOT_FOUND',
    });
  });

  it('resumes a hard-limited preset (and is a no-op for a healthy one), and invalidates a template', async () => {
    await ctx.dataSource.query(
      `UPDATE prebuilds.template_version_presets SET prebuild_status = 'hard_limited' WHERE id = $1`,
      [presetId],
    );
    await admin.resumePreset(presetId, 'test');
    const [after] = await ctx.dataSource.query(
      `SELECT prebuild_status AS status, failure_reset_at AS reset FROM prebuilds.template_version_presets WHERE id = $1`,
      [presetId],
    );
    expect(after).toEqual({ status: 'healthy', reset: ctx.clock.now() });
    ctx.clock.advance(1000);
    await admin.resumePreset(presetId, 'test');
    const [again] = await ctx.dataSource.query(
      `SELECT failure_reset_at AS reset FROM prebuilds.template_version_presets WHERE id = $1`,
      [presetId],
    );
    expect(again.reset).toEqual(after.reset);
    await expect(admin.resumePreset('00000000-0000-4000-8000-00000000dead', 'test')).rejects.toMatchObject({
      code: 'PRESET_NOT_FOUND',
    });

    expect(await catalog.invalidate(templateId, 'test')).toEqual({ templateId, invalidatedPresets: 1 });
    const report = await status.status();
    expect(report.presets.find((p) => p.presetId === presetId)).toMatchObject({ expired: 2, eligible: 0 });
    await expect(catalog.invalidate('00000000-0000-4000-8000-00000000dead', 'test')).rejects.toMatchObject({
      code: 'TEMPLATE_NOT_FOUND',
    });
  });
});
