import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TemplateCatalogService } from '../../src/prebuilds/catalog/template-catalog.service.js';
import { ProvisionerJobService } from '../../src/prebuilds/provisioner/provisioner-job.service.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** A template moved to another pool of provisioners after it was registered: its waiting jobs follow it. */
describe('changing a template provisioner tags', () => {
  let db: TestDatabase;
  let ctx: PrebuildsTestContext;
  let catalog: TemplateCatalogService;
  let jobs: ProvisionerJobService;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = await createPrebuildsTestContext(db.url);
    catalog = ctx.app.get(TemplateCatalogService);
    jobs = ctx.app.get(ProvisionerJobService);
  });
  afterAll(async () => {
    await ctx.close();
    await db.drop();
  });

  const tagsOfJobs = async (templateId: string): Promise<Record<string, string>[]> =>
    (
      await ctx.dataSource.query(
        `SELECT j.tags FROM prebuilds.provisioner_jobs j JOIN prebuilds.workspace_builds b ON b.job_id = j.id
           JOIN prebuilds.workspaces w ON w.id = b.workspace_id WHERE w.template_id = $1 ORDER BY j.created_at, j.id`,
        [templateId],
      )
    ).map((row: { tags: Record<string, string> }) => row.tags);

  it('retags the jobs still waiting, leaves a taken one where it runs, and routes new ones by the new tags', async () => {
    const template = await catalog.registerTemplate({
      organizationId: 'org',
      name: 'movable',
      provisionerTags: { pool: 'old' },
      version: { name: 'v1', presets: [{ name: 'p', prebuilds: { instances: 3 } }] },
    });
    await ctx.reconciler.reconcileAll();
    expect(await tagsOfJobs(template.id)).toEqual(Array(3).fill({ pool: 'old', is_prebuild: 'true' }));

    // An old-pool daemon takes one; then the template moves.
    const taken = await jobs.acquireNext('old-daemon', { tags: { pool: 'old' }, prebuild: null });
    expect(taken).not.toBeNull();
    expect(await catalog.setProvisionerTags(template.id, { pool: 'new', zone: 'eu' })).toBe(2);

    const tags = await tagsOfJobs(template.id);
    expect(tags.filter((t) => t.pool === 'new')).toEqual(
      Array(2).fill({ pool: 'new', zone: 'eu', is_prebuild: 'true' }),
    );
    expect(tags.filter((t) => t.pool === 'old')).toHaveLength(1);
    expect(await jobs.acquireNext('old-daemon', { tags: { pool: 'old' }, prebuild: null })).toBeNull();
    const moved = await jobs.acquireNext('new-daemon', { tags: { pool: 'new', zone: 'eu' }, prebuild: true });
    expect(moved?.tags).toEqual({ pool: 'new', zone: 'eu', is_prebuild: 'true' });
  });

  it('refuses the reserved tag, a non-string value and an unknown template, changing nothing', async () => {
    const template = await catalog.registerTemplate({
      organizationId: 'org',
      name: 'fixed',
      provisionerTags: { pool: 'a' },
      version: { name: 'v1' },
    });
    await expect(catalog.setProvisionerTags(template.id, { is_prebuild: 'true' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('provisionerTags.is_prebuild'),
    });
    await expect(
      catalog.setProvisionerTags(template.id, { pool: 3 } as unknown as Record<string, string>),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(catalog.setProvisionerTags('no-such-template', { pool: 'b' })).rejects.toMatchObject({
      code: 'TEMPLATE_NOT_FOUND',
    });
    const [row] = await ctx.dataSource.query(
      `SELECT provisioner_tags AS tags FROM prebuilds.templates WHERE id = $1`,
      [template.id],
    );
    expect(row.tags).toEqual({ pool: 'a' });
  });
});
