import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { Clock } from '../../src/prebuilds/clock/clock.js';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { PrebuildsHealthModule } from '../../src/prebuilds/health/health.module.js';
import { PrebuildsModule } from '../../src/prebuilds/prebuilds.module.js';
import { PrebuildsPubsub } from '../../src/prebuilds/pubsub/prebuilds-pubsub.js';
import { ReconcileScheduler } from '../../src/prebuilds/reconciler/reconcile-scheduler.service.js';
import { ReconcilerFreshnessIndicator } from '../../src/prebuilds/health/reconciler-freshness.health.js';
import { FakeClock } from '../support/fake-clock.js';
import { RecordingPubsub } from '../support/recording-pubsub.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const INTERVAL = 60_000;

describe('GET /healthz and /readyz', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let ds: DataSource;
  const clock = new FakeClock('2026-06-01T12:00:00Z');

  beforeAll(async () => {
    db = await createTestDatabase();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(testDataSourceOptions(db.url, { poolSize: 4 })),
        // Enabled, so readiness judges freshness (the scheduler is stopped below).
        PrebuildsModule.forRoot({ enabled: true, reconcileIntervalMs: INTERVAL }),
        PrebuildsHealthModule,
      ],
    })
      .overrideProvider(Clock)
      .useValue(clock)
      .overrideProvider(PrebuildsPubsub)
      .useValue(new RecordingPubsub())
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.setGlobalPrefix('api/v2');
    await app.init();
    // Readiness only needs the loop enabled in the options; a running scheduler would record cycles at the fake
    // clock's current time behind the test's back.
    await app.get(ReconcileScheduler).stop();
    ds = app.get(getDataSourceToken());
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('is live and ready after start', async () => {
    await request(app.getHttpServer()).get('/api/v2/healthz').expect(200, { status: 'ok' });
    const ready = await request(app.getHttpServer()).get('/api/v2/readyz').expect(200);
    expect(ready.body.details).toEqual({
      database: expect.objectContaining({ status: 'up' }),
      migrations: { status: 'up' },
    });
  });

  it('stays ready when no cycle has completed for three intervals; the exported indicator and the status say stale (database time)', async () => {
    const freshness = app.get(ReconcilerFreshnessIndicator);
    await ds.query(`UPDATE prebuilds.prebuilds_settings SET last_cycle_completed_at = now()`);
    expect(await freshness.check()).toEqual({ reconciler: expect.objectContaining({ status: 'up' }) });
    // The replica's clock moving on says nothing: freshness is judged in database time.
    clock.advance(3 * INTERVAL);
    expect(await freshness.check()).toEqual({ reconciler: expect.objectContaining({ status: 'up' }) });

    await ds.query(
      `UPDATE prebuilds.prebuilds_settings SET last_cycle_completed_at = now() - $1 * interval '1 millisecond'`,
      [3 * INTERVAL + 1000],
    );
    await request(app.getHttpServer()).get('/api/v2/readyz').expect(200);
    expect(await freshness.check()).toEqual({
      reconciler: expect.objectContaining({ status: 'down', ageMs: expect.any(Number) }),
    });

    await ds.query(`UPDATE prebuilds.prebuilds_settings SET reconciliation_paused = true`);
    expect(await freshness.check()).toEqual({ reconciler: expect.objectContaining({ status: 'up' }) });
    await ds.query(
      `UPDATE prebuilds.prebuilds_settings SET reconciliation_paused = false, last_cycle_completed_at = now()`,
    );
    expect(await freshness.check()).toEqual({ reconciler: expect.objectContaining({ status: 'up' }) });
  });

  it('is not ready with a pending migration', async () => {
    // The module's own migrations table decides, whatever the host's DataSource lists (the host's is complete).
    const [row] = await ds.query(`SELECT * FROM prebuilds.migrations WHERE name = '1764950000000-JobLeases'`);
    await ds.query(`DELETE FROM prebuilds.migrations WHERE name = $1`, [row.name]);
    try {
      const pending = await request(app.getHttpServer()).get('/api/v2/readyz').expect(503);
      expect(pending.body).toMatchObject({ statusCode: 503, code: 'UNAVAILABLE' });
      expect(pending.body.error).toEqual({
        migrations: expect.objectContaining({ status: 'down', pending: ['1764950000000-JobLeases'] }),
      });
      expect(await ds.showMigrations()).toBe(false);
    } finally {
      await ds.query(`INSERT INTO prebuilds.migrations (name, applied_at) VALUES ($1, $2)`, [
        row.name,
        row.applied_at,
      ]);
    }
  });
});
