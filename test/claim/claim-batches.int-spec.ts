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

/** A fresh template whose preset wants `count` prebuilds and has exactly that many eligible ones, oldest first. */
async function presetWithEligible(
  ds: DataSource,
  count: number,
): Promise<{ templateId: string; presetId: string }> {
  const { templateId, versionId } = await insertTemplate(ds, {});
  const presetId = await insertPreset(ds, versionId, { desiredInstances: count });
  for (let i = 0; i < count; i++)
    await insertPrebuild(ds, { templateId, versionId, presetId, createdAt: ago(i) });
  return { templateId, presetId };
}
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
    const { templateId, presetId } = await presetWithEligible(ds, 10);
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

  it('under a quota, batches one claim per owner after the owners locks: nobody passes the quota', async () => {
    const ds = ctx.dataSource;
    const { templateId, presetId } = await presetWithEligible(ds, 20);
    // Owners of their own: the quota counts every live workspace, and the tests above gave the shared users theirs.
    const owners: string[] = [];
    for (let i = 0; i < 30; i++) owners.push(await insertUser(ds, { username: `quota-owner-${i}` }));
    // Two owners are at the quota of 2 already; a third asks three times at once.
    for (const owner of owners.slice(0, 2))
      for (const name of ['old-1', 'old-2']) await insertWorkspace(ds, { templateId, ownerId: owner, name });
    const requests = [
      ...owners.map((ownerId, i) => ({ ownerId, name: `quota-${i}` })),
      { ownerId: owners[2], name: 'quota-2b' },
      { ownerId: owners[2], name: 'quota-2c' },
    ];
    const sent = ctx.sql.statements.length;

    const outcomes = await Promise.allSettled(
      requests.map(({ ownerId, name }) =>
        claims.createWorkspace({ templateId, ownerId, name, presetId, maxLiveWorkspaces: 2 }),
      ),
    );

    expect(ctx.sql.statements.slice(sent).filter((text) => text.includes(BATCH_MARK)).length).toBeGreaterThan(
      0,
    );
    const refused = requests.filter((_, i) => outcomes[i].status === 'rejected');
    for (const outcome of outcomes.filter((o) => o.status === 'rejected'))
      expect(((outcome as PromiseRejectedResult).reason as PrebuildsException).code).toBe(
        PrebuildsErrorCode.QuotaExceeded,
      );
    // owners[0] and owners[1] were full; owners[2] had room for two of its three.
    expect(refused.map((r) => r.ownerId).sort()).toEqual([owners[0], owners[1], owners[2]].sort());
    const live: { owner: string; n: number }[] = await ds.query(
      `SELECT owner_id AS owner, count(*)::int AS n FROM prebuilds.workspaces
        WHERE template_id = $1 AND NOT deleted GROUP BY owner_id`,
      [templateId],
    );
    expect(Math.max(...live.filter((row) => owners.includes(row.owner)).map((row) => row.n))).toBe(2);
    const claimedCount = outcomes.filter((o) => o.status === 'fulfilled' && o.value.claimed).length;
    expect(claimedCount).toBe(20);
    expect(await findLatestBuildDrift(ds)).toEqual([]);
  });

  it('never lets a claim under a quota share a statement with claims under another quota or none', async () => {
    const ds = ctx.dataSource;
    const { templateId, presetId } = await presetWithEligible(ds, 10);
    const full: string[] = [];
    for (let i = 0; i < 10; i++) {
      const owner = await insertUser(ds, { username: `full-owner-${i}` });
      await insertWorkspace(ds, { templateId, ownerId: owner, name: 'the-one' });
      full.push(owner);
    }
    // Interleaved: a claim without a quota, then one of an owner at its quota of 1, and so on.
    const requests = full.flatMap((owner, i) => [
      { ownerId: users[i], name: `free-${i}` },
      { ownerId: owner, name: `over-${i}`, maxLiveWorkspaces: 1 },
    ]);

    const outcomes = await Promise.allSettled(
      requests.map((request) => claims.createWorkspace({ templateId, presetId, ...request })),
    );

    requests.forEach((request, i) => {
      const outcome = outcomes[i];
      if (request.maxLiveWorkspaces === undefined) expect(outcome.status).toBe('fulfilled');
      else
        expect(outcome.status === 'rejected' && (outcome.reason as PrebuildsException).code).toBe(
          PrebuildsErrorCode.QuotaExceeded,
        );
    });
  });
});

/** Claims made in one turn of the event loop share a statement even with every claim connection free. */
describe('ClaimService: claims of one turn, connections free', () => {
  let db: TestDatabase;
  let ctx: PrebuildsTestContext;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = await createPrebuildsTestContext(db.url, { claimPoolSize: 8 });
  });
  afterAll(async () => {
    await ctx.close();
    await db.drop();
  });

  it('go out as one statement that hands each its own prebuild', async () => {
    const ds = ctx.dataSource;
    const claims = ctx.app.get(ClaimService);
    const { templateId, presetId } = await presetWithEligible(ds, 7);
    const owners: string[] = [];
    for (let i = 0; i < 7; i++) owners.push(await insertUser(ds, { username: `turn-${i}` }));
    // The first claim reads the template into the cache; the others then reach the batcher in the same turn.
    await claims.createWorkspace({
      templateId,
      ownerId: owners.pop() as string,
      name: 'turn-first',
      presetId,
    });
    const sent = ctx.sql.statements.length;

    const results = await Promise.all(
      owners.map((ownerId, i) =>
        claims.createWorkspace({ templateId, ownerId, name: `turn-${i}`, presetId }),
      ),
    );

    const claimStatements = ctx.sql.statements
      .slice(sent)
      .filter((text) => text.includes(BATCH_MARK) || text.startsWith('WITH tpl AS ('));
    expect(claimStatements.map((text) => text.includes(BATCH_MARK))).toEqual([true]);
    expect(results.every((result) => result.claimed)).toBe(true);
    expect(new Set(results.map((result) => result.id)).size).toBe(6);
  });
});
