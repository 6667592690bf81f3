import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { ClaimService } from '../../src/prebuilds/claim/claim.service.js';
import { PrebuildsErrorCode, PrebuildsException } from '../../src/prebuilds/errors/prebuilds.exception.js';
import {
  insertPrebuild,
  insertPreset,
  insertTemplate,
  insertUser,
  insertWorkspace,
} from '../support/fixtures.js';
import { findLatestBuildDrift } from '../support/latest-build-drift.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const ago = (minutes: number) => new Date(Date.UTC(2026, 5, 1, 12) - minutes * 60_000);
/** A text only the batch statement (ClaimRepository.claimBatchStatement) sends. */
const BATCH_MARK = 'WITH ORDINALITY AS r(owner_id';

/** Per workspace of the template: owner, name, and its builds' reasons in build order. */
async function workspacesOf(ds: DataSource, templateId: string) {
  const rows: { id: string; owner: string; name: string; reasons: string[] }[] = await ds.query(
    `SELECT w.id, w.owner_id AS owner, w.name,
            array_remove(array_agg(b.reason ORDER BY b.build_number), NULL) AS reasons
       FROM prebuilds.workspaces w LEFT JOIN prebuilds.workspace_builds b ON b.workspace_id = w.id
      WHERE w.template_id = $1 AND NOT w.deleted GROUP BY w.id`,
    [templateId],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

/**
 * Claims that queue for a claim connection go out together (ClaimBatcher): on 2 connections, 40 concurrent callers
 * of one preset make batches, and a batch must hand out exactly what single claims would.
 */
describe('ClaimService: claims batched while the claim connections are busy', () => {
  let db: TestDatabase;
  let ctx: PrebuildsTestContext;
  let claims: ClaimService;
  let users: string[];

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = await createPrebuildsTestContext(db.url, { claimPoolSize: 2 });
    claims = ctx.app.get(ClaimService);
    users = [];
    for (let i = 0; i < 40; i++) users.push(await insertUser(ctx.dataSource, { username: `batcher-${i}` }));
  });
  afterAll(async () => {
    await ctx.close();
    await db.drop();
  });

  it('hands each eligible prebuild to exactly one caller, never an ineligible one, and builds for the rest', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 25 });
    const eligible = new Set<string>();
    for (let i = 0; i < 25; i++)
      eligible.add(await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: ago(30 + i) }));
    const notReady = await insertPrebuild(ds, {
      templateId,
      versionId,
      presetId,
      ready: false,
      createdAt: ago(90),
    });
    const failed = await insertPrebuild(ds, {
      templateId,
      versionId,
      presetId,
      jobStatus: 'failed',
      createdAt: ago(91),
    });
    const sent = ctx.sql.statements.length;

    const results = await Promise.all(
      users.map((ownerId, i) =>
        claims.createWorkspace({ templateId, ownerId, name: `batch-${i}`, presetId }),
      ),
    );

    const batches = ctx.sql.statements.slice(sent).filter((text) => text.includes(BATCH_MARK)).length;
    expect(batches).toBeGreaterThan(0);
    const claimed = results.filter((result) => result.claimed);
    expect(new Set(claimed.map((result) => result.id))).toEqual(eligible);
    expect(claimed).toHaveLength(25);
    const rows = await workspacesOf(ds, templateId);
    for (const result of results) {
      const row = rows.get(result.id);
      expect(row).toMatchObject({ owner: result.ownerId, name: result.name });
      // A claimed prebuild got one claim build after its prebuild build; a miss one initiator build.
      expect(row?.reasons).toEqual(result.claimed ? ['initiator', 'claim'] : ['initiator']);
    }
    expect(rows.size).toBe(40 + 2);
    for (const untouched of [notReady, failed]) expect(rows.get(untouched)?.reasons).toEqual(['initiator']);
    expect(await findLatestBuildDrift(ds)).toEqual([]);
  });

  it('answers a taken name in a batch with NAME_TAKEN to that caller only; the others are served', async () => {
    const ds = ctx.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 10 });
    for (let i = 0; i < 10; i++)
      await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: ago(i) });
    const [owner] = users;
    await insertWorkspace(ds, { templateId, ownerId: owner, name: 'taken' });

    const outcomes = await Promise.allSettled(
      users.map((ownerId, i) =>
        claims.createWorkspace({ templateId, ownerId, name: i === 0 ? 'taken' : `named-${i}`, presetId }),
      ),
    );

    const [refused, ...served] = outcomes;
    expect(refused.status).toBe('rejected');
    const error = (refused as PromiseRejectedResult).reason as PrebuildsException;
    expect(error).toBeInstanceOf(PrebuildsException);
    expect(error.code).toBe(PrebuildsErrorCode.NameTaken);
    expect(served.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    const claimedCount = served.filter(
      (outcome) => outcome.status === 'fulfilled' && outcome.value.claimed,
    ).length;
    expect(claimedCount).toBe(10);
    const rows = await workspacesOf(ds, templateId);
    expect([...rows.values()].filter((row) => row.owner === owner).map((row) => row.name)).toEqual(['taken']);
    expect(await findLatestBuildDrift(ds)).toEqual([]);
  });
});
