import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { PrebuildsSettingsRepository } from '../../src/prebuilds/database/settings.repository.js';
import { PrebuildsSnapshotRepository } from '../../src/prebuilds/database/snapshot.repository.js';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** What a snapshot's transaction runs with (the plans at 1M prebuilds showed both settings matter). */
describe('the session settings of a snapshot read', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const ns = new PrebuildsNamespace();

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource(testDataSourceOptions(db.url, { poolSize: 1 })).initialize();
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  const show = async (manager: DataSource['manager']) => {
    const [row] = await manager.query(
      `SELECT current_setting('jit') AS jit, current_setting('work_mem') AS "workMem"`,
    );
    return row as { jit: string; workMem: string };
  };

  it("sets jit off and work_mem in the cycle's lock statement, for that transaction only", async () => {
    const before = await show(ds.manager);
    const inside = await ds.transaction(async (manager) => {
      const lock = await new PrebuildsSettingsRepository(ds, ns).tryReconcileLock(manager, {
        statementTimeoutMs: 5_000,
        idleTimeoutMs: 5_000,
        workMemMb: 48,
      });
      expect(lock.acquired).toBe(true);
      return show(manager);
    });
    expect(inside).toEqual({ jit: 'off', workMem: '48MB' });
    // One pooled connection: the next query runs on the same session, back to the server's settings.
    expect(await show(ds.manager)).toEqual(before);
  });

  it("keeps the server's work_mem when the option is 0", async () => {
    const before = await show(ds.manager);
    const inside = await ds.transaction(async (manager) => {
      await new PrebuildsSnapshotRepository(ds, ns).applySessionSettings(manager, 0);
      return show(manager);
    });
    expect(inside).toEqual({ jit: 'off', workMem: before.workMem });
  });
});
