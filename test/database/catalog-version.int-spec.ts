import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { PrebuildsSnapshotRepository } from '../../src/prebuilds/database/snapshot.repository.js';
import { insertPreset, insertTemplate } from '../support/fixtures.js';
import { createPrebuildsTestContext, type PrebuildsTestContext } from '../support/prebuilds-test-module.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The catalog version (migration 1765700000000-CatalogVersion) that lets a replica keep its preset list between
 * cycles: it must move with every committed change to the catalog, from any connection, and only then.
 */
describe('the catalog version behind the cached preset list', () => {
  let db: TestDatabase;
  let ctx: PrebuildsTestContext;
  let other: pg.Client;
  let snapshots: PrebuildsSnapshotRepository;
  let templateId: string;
  let versionId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    ctx = await createPrebuildsTestContext(db.url);
    snapshots = ctx.app.get(PrebuildsSnapshotRepository);
    other = new pg.Client({ connectionString: db.url });
    await other.connect();
    ({ templateId, versionId } = await insertTemplate(ctx.dataSource, {}));
  });
  afterAll(async () => {
    await other?.end();
    await ctx?.close();
    await db?.drop();
  });

  const version = async () =>
    Number((await ctx.dataSource.query(`SELECT version FROM prebuilds.catalog_version`))[0].version);

  /** What a cycle would see of the presets, on a REPEATABLE READ transaction as the reconciler reads. */
  const desiredSeen = (): Promise<Record<string, number | null>> =>
    ctx.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const input = await snapshots.read(manager, {
        now: ctx.clock.now(),
        templateId: null,
        backoffLookbackMs: 60_000,
        failureHardLimit: 3,
      });
      return Object.fromEntries(input.presets.map((p) => [p.presetName, p.desiredInstances]));
    });

  it('moves once per statement that changes catalog rows, and not for one that changes none or writes them back as they were', async () => {
    const before = await version();
    await ctx.dataSource.query(
      `INSERT INTO prebuilds.template_version_presets (template_version_id, name, desired_instances)
       SELECT $1, 'bulk-' || n, 1 FROM generate_series(1, 3) n`,
      [versionId],
    );
    expect(await version()).toBe(before + 1);
    await ctx.dataSource.query(`UPDATE prebuilds.template_version_presets SET name = name WHERE false`);
    await ctx.dataSource.query(`DELETE FROM prebuilds.prebuild_schedules WHERE false`);
    await ctx.dataSource.query(
      `UPDATE prebuilds.template_version_presets SET name = name WHERE name LIKE 'bulk-%'`,
    );
    expect(await version()).toBe(before + 1);
    await ctx.dataSource.query(`DELETE FROM prebuilds.template_version_presets WHERE name LIKE 'bulk-%'`);
    await ctx.dataSource.query(`UPDATE prebuilds.templates SET deprecated = 'use v2' WHERE id = $1`, [
      templateId,
    ]);
    await ctx.dataSource.query(`UPDATE prebuilds.templates SET deprecated = '' WHERE id = $1`, [templateId]);
    expect(await version()).toBe(before + 4);
  });

  it("shows another connection's change at the next read, never an uncommitted one, and keeps no stale copy", async () => {
    const presetId = await insertPreset(ctx.dataSource, versionId, { name: 'watched', desiredInstances: 2 });
    expect((await desiredSeen()).watched).toBe(2);

    // A change that has not committed yet: the read keeps the catalog it has (a counter outside the transaction
    // would have moved already, and the copy below would have been filed under the new number).
    await other.query('BEGIN');
    await other.query(`UPDATE prebuilds.template_version_presets SET desired_instances = 5 WHERE id = $1`, [
      presetId,
    ]);
    expect((await desiredSeen()).watched).toBe(2);
    await other.query('COMMIT');
    expect((await desiredSeen()).watched).toBe(5);

    await other.query(
      `UPDATE prebuilds.template_version_presets SET desired_instances = NULL WHERE id = $1`,
      [presetId],
    );
    expect(await desiredSeen()).not.toHaveProperty('watched');
  });
});
