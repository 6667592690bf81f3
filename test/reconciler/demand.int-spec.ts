import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrebuildsStatusService } from '../../src/prebuilds/admin/prebuilds-status.service.js';
import type { PresetStatus } from '../../src/prebuilds/admin/prebuilds-status.types.js';
import { TemplateCatalogService } from '../../src/prebuilds/catalog/template-catalog.service.js';
import { ClaimService } from '../../src/prebuilds/claim/claim.service.js';
import { PrebuildsMetricsService } from '../../src/prebuilds/metrics/prebuilds-metrics.service.js';
import { NotificationBatcher } from '../../src/prebuilds/pubsub/notification-batcher.service.js';
import { insertPrebuild, insertPreset, insertTemplate, insertUser } from '../support/fixtures.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const MINUTE = 60_000;

/** DESIGN.md rule 12 on PostgreSQL: claims and misses recorded by real claims size the pool through its expression. */
describe('demand-aware pools', () => {
  let db: TestDatabase;
  let ctx: PrebuildsTestContext;
  let claims: ClaimService;
  let status: PrebuildsStatusService;
  let alice: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = await createPrebuildsTestContext(db.url);
    claims = ctx.app.get(ClaimService);
    status = ctx.app.get(PrebuildsStatusService);
    alice = await insertUser(ctx.dataSource, { username: 'alice' });
  });
  afterAll(async () => {
    await ctx.close();
    await db.drop();
  });

  /** Claims `count` workspaces of the preset and lets their events reach the table. */
  async function claim(templateId: string, presetId: string, count: number): Promise<boolean[]> {
    const outcomes: boolean[] = [];
    for (let i = 0; i < count; i++) {
      const result = await claims.createWorkspace({
        templateId,
        presetId,
        ownerId: alice,
        name: `demand-${presetId.slice(0, 8)}-${ctx.clock.now().getTime()}-${i}`,
      });
      outcomes.push(result.claimed);
    }
    await ctx.app.get(NotificationBatcher).flush();
    return outcomes;
  }

  async function presetStatus(presetId: string): Promise<PresetStatus> {
    const found = (await status.status()).presets.find((p) => p.presetId === presetId);
    if (!found) throw new Error(`preset ${presetId} not in the status`);
    return found;
  }

  const createsOf = async (presetId: string) => {
    const result = await ctx.reconciler.reconcileAll();
    const preset = result.presets.find((p) => p.presetId === presetId);
    return preset?.actions.filter((a) => a.type === 'create').reduce((n, a) => n + a.count, 0) ?? 0;
  };

  it('grows the pool with the last 10 minutes of demand and shrinks it back when demand stops', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, {
      desiredInstances: 1,
      instancesExpression: 'claims_10m + misses_10m + 1',
    });
    const ready = await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: ctx.clock.now() });

    // One claim takes the ready prebuild, two more miss.
    expect(await claim(templateId, presetId, 3)).toEqual([true, false, false]);
    expect(await createsOf(presetId)).toBe(4);
    const grown = await presetStatus(presetId);
    expect(grown).toMatchObject({
      desired: 4,
      desiredSource: 'expression',
      expression: {
        expression: 'claims_10m + misses_10m + 1',
        value: 4,
        error: null,
        scheduledTarget: 1,
        scheduledSource: 'base',
      },
    });
    expect(grown.demand.claims).toEqual({ '5m': 1, '10m': 1, '30m': 1, '60m': 1, '120m': 1 });
    expect(grown.demand.misses['10m']).toBe(2);
    expect(grown.demand.hitRate['10m']).toBeCloseTo(1 / 3);
    // The same hit rate for Prometheus, read from the events when scraped.
    const scraped = await ctx.app.get(PrebuildsMetricsService).metrics();
    const hitRatio = scraped
      .split('\n')
      .find((l) => l.startsWith('prebuilds_claim_hit_ratio{') && l.includes('window="10m"'));
    expect(Number(hitRatio?.split(' ').pop())).toBeCloseTo(1 / 3);
    expect(ready).toBeDefined();

    // Eleven minutes later the 10-minute window is empty again: back to one, while the 30-minute one still counts.
    ctx.clock.advance(11 * MINUTE);
    const later = await presetStatus(presetId);
    expect(later).toMatchObject({ desired: 1, desiredSource: 'expression', expression: { value: 1 } });
    expect(later.demand.claims['10m']).toBe(0);
    expect(later.demand.claims['30m']).toBe(1);
    expect(later.demand.hitRate['10m']).toBeNull();
    expect(later.demand.hitRate['30m']).toBeCloseTo(1 / 3);

    // Events past the longest window no longer count anywhere.
    ctx.clock.advance(120 * MINUTE);
    expect((await presetStatus(presetId)).demand.misses['120m']).toBe(0);
  });

  it('falls back to the scheduled target when the expression fails, says why, and counts the failure', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, { name: 'fallback-tpl' });
    const presetId = await insertPreset(ds, versionId, {
      name: 'divides',
      desiredInstances: 2,
      instancesExpression: 'base / eligible',
    });
    const metrics = ctx.app.get(PrebuildsMetricsService);
    const errorsBefore = await expressionErrors(metrics, 'divides');

    expect(await createsOf(presetId)).toBe(2);
    const preset = await presetStatus(presetId);
    expect(preset).toMatchObject({
      desired: 2,
      desiredSource: 'base',
      expression: { value: null, error: 'division by zero', scheduledTarget: 2 },
    });
    expect(await expressionErrors(metrics, 'divides')).toBe(errorsBefore + 1);
    const plan = (await status.plan()).presets.find((p) => p.presetId === presetId);
    expect(plan).toMatchObject({ desiredSource: 'base', expression: { error: 'division by zero' } });
    expect(templateId).toBeDefined();
  });

  it('changes a preset expression through the catalog, checked as at input, and clears it', async () => {
    const ds = ctx.dataSource;
    const { versionId } = await insertTemplate(ds, { name: 'tuned-tpl' });
    const presetId = await insertPreset(ds, versionId, { name: 'tuned', desiredInstances: 1 });
    const catalog = ctx.app.get(TemplateCatalogService);

    await catalog.setPresetExpression(presetId, 'base + 2');
    expect(await presetStatus(presetId)).toMatchObject({ desired: 3, desiredSource: 'expression' });

    await expect(catalog.setPresetExpression(presetId, 'base +\n  "2"')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'instancesExpression: no such overload: int + string at line 1, column 1',
    });
    expect((await presetStatus(presetId)).expression?.expression).toBe('base + 2');
    await expect(
      catalog.setPresetExpression('00000000-0000-4000-8000-000000000000', 'base'),
    ).rejects.toMatchObject({ code: 'PRESET_NOT_FOUND' });

    await catalog.setPresetExpression(presetId, null);
    expect(await presetStatus(presetId)).toMatchObject({
      desired: 1,
      desiredSource: 'base',
      expression: null,
    });
  });

  it('reports claim latency percentiles in the status once claims were measured', async () => {
    const latency = (await status.status()).claimLatencySeconds;
    expect(latency?.count).toBeGreaterThanOrEqual(1);
    expect(latency?.p50).toBeGreaterThan(0);
    expect(latency?.p99).toBeGreaterThanOrEqual(latency?.p50 ?? Infinity);
  });
});

async function expressionErrors(metrics: PrebuildsMetricsService, preset: string): Promise<number> {
  const text = await metrics.metrics();
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith('prebuilds_target_expression_errors_total{') && l.includes(`preset="${preset}"`),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}
