import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TemplateCatalogService } from '../../src/prebuilds/catalog/template-catalog.service.js';
import { ClaimService } from '../../src/prebuilds/claim/claim.service.js';
import { PrebuildsException } from '../../src/prebuilds/errors/prebuilds.exception.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Issue 13 for a host that calls the module's services directly (no HTTP, no class-transformer in between): the
 * catalog and ClaimService give the same 400s as the routes, with nothing written, and a cycle reads a preset's
 * parameters by own property.
 */

const NUL = '\u0000';

async function expectRefused(work: Promise<unknown>, code: string, field: string): Promise<void> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PrebuildsException);
  expect({ code: (error as PrebuildsException).code, message: (error as Error).message }).toEqual({
    code,
    message: expect.stringContaining(field),
  });
}

describe('guardrails for direct callers of the catalog and ClaimService', () => {
  let db: TestDatabase;
  let ctx: PrebuildsTestContext;
  let catalog: TemplateCatalogService;
  let claims: ClaimService;
  let templateId: string;

  const counts = async () =>
    (
      await ctx.dataSource.query(
        `SELECT (SELECT count(*)::int FROM prebuilds.templates) AS templates,
                (SELECT count(*)::int FROM prebuilds.template_versions) AS versions,
                (SELECT count(*)::int FROM prebuilds.template_version_presets) AS presets,
                (SELECT count(*)::int FROM prebuilds.workspaces) AS workspaces,
                (SELECT count(*)::int FROM prebuilds.workspace_builds) AS builds`,
      )
    )[0];

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = await createPrebuildsTestContext(db.url, { maxInstancesPerPreset: 50 });
    catalog = ctx.app.get(TemplateCatalogService);
    claims = ctx.app.get(ClaimService);
    templateId = (
      await catalog.registerTemplate({
        organizationId: 'org',
        name: 'live',
        version: { name: 'v1', parameters: [{ name: 'region', default: 'eu' }] },
      })
    ).id;
  });
  afterAll(async () => {
    await ctx?.close();
    await db?.drop();
  });

  it('refuses 1,000 presets × 1,000 instances against the configured cap, writing nothing', async () => {
    const before = await counts();
    const presets = Array.from({ length: 1000 }, (_, i) => ({
      name: `p${i}`,
      prebuilds: { instances: 1000 },
    }));
    await expectRefused(
      catalog.registerTemplate({ organizationId: 'org', name: 'flood', version: { name: 'v1', presets } }),
      'VALIDATION_FAILED',
      'version.presets[0].prebuilds.instances',
    );
    // The cap comes from the module's options (50 here), not the DTO's absolute bound.
    await expectRefused(
      catalog.publishVersion(templateId, {
        version: { name: 'v2', presets: [{ name: 'p', prebuilds: { instances: 51 } }] },
      }),
      'VALIDATION_FAILED',
      'above the per-preset cap of 50',
    );
    const presetId = (
      await catalog.publishVersion(templateId, {
        version: { name: 'v3', presets: [{ name: 'p', prebuilds: { instances: 50 } }] },
      })
    ).presets[0].id;
    await expectRefused(catalog.setPresetInstances(presetId, 51), 'VALIDATION_FAILED', 'instances');
    const after = await counts();
    expect(after).toEqual({ ...before, versions: before.versions + 1, presets: before.presets + 1 });
  });

  it.each([
    ['a preset name', { name: 'v', presets: [{ name: `p${NUL}` }] }, 'version.presets[0].name'],
    [
      'a default',
      { name: 'v', parameters: [{ name: 'a', default: `x${NUL}` }] },
      'version.parameters[0].default',
    ],
    [
      'a preset parameter key',
      { name: 'v', presets: [{ name: 'p', parameters: { [`a${NUL}`]: 'x' } }] },
      'version.presets[0].parameters',
    ],
    [
      'JSON 2,000 levels deep',
      JSON.parse(`${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`),
      'nested deeper than 32',
    ],
    [
      'an own __proto__ parameter (as JSON.parse makes it)',
      JSON.parse(
        '{"name":"v","parameters":[{"name":"a"}],"presets":[{"name":"p","parameters":{"__proto__":"x"}}]}',
      ),
      'version.presets[0].parameters.__proto__',
    ],
  ])('the catalog refuses %s with a 400 naming the field', async (_what, version, field) => {
    const before = await counts();
    await expectRefused(catalog.publishVersion(templateId, { version }), 'VALIDATION_FAILED', field);
    await expectRefused(
      catalog.registerTemplate({ organizationId: 'org', name: 'bad', version }),
      'VALIDATION_FAILED',
      field,
    );
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['a NUL in the name', () => ({ name: `w${NUL}` }), 'VALIDATION_FAILED', 'name'],
    [
      'a NUL in a parameter value',
      () => ({ parameters: { region: `e${NUL}u` } }),
      'VALIDATION_FAILED',
      'parameters.region',
    ],
    [
      'an own __proto__ parameter',
      () => ({ parameters: JSON.parse('{"__proto__":"eu"}') }),
      'VALIDATION_FAILED',
      '__proto__',
    ],
    [
      'a constructor parameter',
      () => ({ parameters: { constructor: 'eu' } }),
      'VALIDATION_FAILED',
      'constructor',
    ],
    ['a non-string parameter', () => ({ parameters: { region: 5 } }), 'INVALID_PARAMETERS', 'parameters'],
  ])('ClaimService refuses %s with nothing written', async (_what, extra, code, field) => {
    const before = await counts();
    await expectRefused(
      claims.createWorkspace({ templateId, ownerId: 'u1', name: 'w', ...(extra() as object) }),
      code,
      field,
    );
    expect(await counts()).toEqual(before);
  });

  it('marks a preset whose required `toString` is unset validation_failed, and creates for an unset `valueOf`', async () => {
    const { activeVersion } = await catalog.registerTemplate({
      organizationId: 'org',
      name: 'prototype-names',
      version: {
        name: 'v1',
        parameters: [
          { name: 'toString', required: true },
          { name: 'valueOf', type: 'number' },
        ],
        presets: [
          { name: 'missing', prebuilds: { instances: 1 } },
          { name: 'given', parameters: { toString: 'x' }, prebuilds: { instances: 1 } },
        ],
      },
    });
    const id = Object.fromEntries(activeVersion.presets.map((p) => [p.name, p.id]));
    const result = await ctx.reconciler.reconcileAll();
    const missing = result.presets.find((p) => p.presetId === id.missing);
    expect(missing?.errors).toEqual([expect.stringContaining("required parameter 'toString' is missing")]);
    const [{ prebuild_status }] = await ctx.dataSource.query(
      `SELECT prebuild_status FROM prebuilds.template_version_presets WHERE id = $1`,
      [id.missing],
    );
    expect(prebuild_status).toBe('validation_failed');
    expect(result.presets.find((p) => p.presetId === id.given)).toMatchObject({
      actions: [{ type: 'create', count: 1 }],
      errors: [],
    });
    const parameters = await ctx.dataSource.query(
      `SELECT bp.name, bp.value FROM prebuilds.workspace_build_parameters bp
         JOIN prebuilds.workspace_builds b ON b.id = bp.build_id WHERE b.preset_id = $1`,
      [id.given],
    );
    expect(parameters).toEqual([{ name: 'toString', value: 'x' }]);
  });
});
