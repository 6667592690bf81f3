import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { PrebuildsDatabaseHealthIndicator } from '../../src/prebuilds/health/database.health.js';
import { PrebuildsHealthIndicatorsModule } from '../../src/prebuilds/health/health-indicators.module.js';
import { PrebuildsHealthModule } from '../../src/prebuilds/health/health.module.js';
import { MigrationsHealthIndicator } from '../../src/prebuilds/health/migrations.health.js';
import { PrebuildsModule } from '../../src/prebuilds/prebuilds.module.js';
import { PrebuildsPubsub } from '../../src/prebuilds/pubsub/prebuilds-pubsub.js';
import { ReconcileScheduler } from '../../src/prebuilds/reconciler/reconcile-scheduler.service.js';
import { RecordingPubsub } from '../support/recording-pubsub.js';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** A host with a liveness probe of its own at GET healthz. */
@Controller()
class HostProbeController {
  @Get('healthz')
  healthz() {
    return { host: 'alive' };
  }
}

/** A host's own readiness probe, built from the module's exported indicators (no PrebuildsHealthModule routes). */
@Controller('host')
class HostReadinessController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: PrebuildsDatabaseHealthIndicator,
    private readonly migrations: MigrationsHealthIndicator,
  ) {}

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.pingCheck('prebuilds-database'),
      () => this.migrations.check('prebuilds-migrations'),
    ]);
  }
}

describe('PrebuildsHealthModule routes and exported indicators', () => {
  let db: TestDatabase;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    await db.drop();
  });

  async function createApp(metadata: ModuleMetadata, { enabled = false } = {}): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      ...metadata,
      imports: [
        TypeOrmModule.forRoot(testDataSourceOptions(db.url, { poolSize: 2 })),
        PrebuildsModule.forRoot({ enabled }),
        ...(metadata.imports ?? []),
      ],
    })
      .overrideProvider(PrebuildsPubsub)
      .useValue(new RecordingPubsub())
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.setGlobalPrefix('api');
    return app;
  }

  it('fails start when the host already maps GET healthz, naming the path, the handler and the way out', async () => {
    const host = await createApp({ imports: [PrebuildsHealthModule], controllers: [HostProbeController] });
    await expect(host.init()).rejects.toThrow(
      'PrebuildsHealthModule: GET /api/healthz is already mapped by HostProbeController.healthz; ' +
        'pass forRoot({ liveness: false }) or another path, or add the exported indicators to your own probe',
    );
  });

  it('fails start for forRoot() keeping the default liveness path too', async () => {
    const host = await createApp({
      controllers: [HostProbeController],
      imports: [PrebuildsHealthModule.forRoot({ readiness: 'ready' })],
    });
    await expect(host.init()).rejects.toThrow(
      /GET \/api\/healthz is already mapped by HostProbeController\.healthz/,
    );
  });

  it('with liveness: false, starts; the host answers its own healthz and the module its readyz', async () => {
    const host = await createApp({
      imports: [PrebuildsHealthModule.forRoot({ liveness: false })],
      controllers: [HostProbeController],
    });
    await host.init();
    await request(host.getHttpServer()).get('/api/healthz').expect(200, { host: 'alive' });
    const ready = await request(host.getHttpServer()).get('/api/readyz').expect(200);
    expect(ready.body.details).toMatchObject({
      database: { status: 'up' },
      migrations: { status: 'up' },
    });
  });

  it('with a moved path, the module answers there and the host at its own', async () => {
    const host = await createApp({
      imports: [
        PrebuildsHealthModule.forRoot({ liveness: 'prebuilds/healthz', readiness: 'prebuilds/readyz' }),
      ],
      controllers: [HostProbeController],
    });
    await host.init();
    await request(host.getHttpServer()).get('/api/healthz').expect(200, { host: 'alive' });
    await request(host.getHttpServer()).get('/api/prebuilds/healthz').expect(200, { status: 'ok' });
    await request(host.getHttpServer()).get('/api/prebuilds/readyz').expect(200);
    await request(host.getHttpServer()).get('/api/readyz').expect(404);
  });

  it('with both probes off, maps nothing', async () => {
    const host = await createApp({
      imports: [PrebuildsHealthModule.forRoot({ liveness: false, readiness: false })],
    });
    await host.init();
    await request(host.getHttpServer()).get('/api/healthz').expect(404);
    await request(host.getHttpServer()).get('/api/readyz').expect(404);
  });

  it("a host's own probe with the exported indicators: 200, and 503 while a module migration is missing", async () => {
    const host = await createApp({
      imports: [TerminusModule.forRoot({ logger: false }), PrebuildsHealthIndicatorsModule],
      controllers: [HostReadinessController],
    });
    await host.init();
    const ds = host.get<DataSource>(getDataSourceToken());
    const ok = await request(host.getHttpServer()).get('/api/host/ready').expect(200);
    expect(ok.body).toMatchObject({
      status: 'ok',
      details: { 'prebuilds-database': { status: 'up' }, 'prebuilds-migrations': { status: 'up' } },
    });
    await request(host.getHttpServer()).get('/api/healthz').expect(404);

    const [row] = await ds.query(`SELECT * FROM prebuilds.migrations WHERE name = '1764950000000-JobLeases'`);
    await ds.query(`DELETE FROM prebuilds.migrations WHERE name = $1`, [row.name]);
    try {
      const pending = await request(host.getHttpServer()).get('/api/host/ready').expect(503);
      expect(pending.body).toEqual({
        status: 'error',
        info: { 'prebuilds-database': expect.objectContaining({ status: 'up' }) },
        error: {
          'prebuilds-migrations': expect.objectContaining({
            status: 'down',
            pending: ['1764950000000-JobLeases'],
          }),
        },
        details: expect.any(Object),
      });
    } finally {
      await ds.query(`INSERT INTO prebuilds.migrations (name, applied_at) VALUES ($1, $2)`, [
        row.name,
        row.applied_at,
      ]);
    }
    await request(host.getHttpServer()).get('/api/host/ready').expect(200);
  });

  it('readiness answers 503 in the terminus shape, never 500, with the database down', async () => {
    const host = await createApp({ imports: [PrebuildsHealthModule] }, { enabled: true });
    await host.init();
    await host.get(ReconcileScheduler).stop();
    await host.get<DataSource>(getDataSourceToken()).destroy();

    const down = await request(host.getHttpServer()).get('/api/readyz').expect(503);
    // terminus' fields, with the module's error shape beside them; readiness is this replica's only.
    expect(down.body).toEqual({
      statusCode: 503,
      code: 'DATABASE_UNAVAILABLE',
      message: expect.any(String),
      status: 'error',
      info: {},
      error: {
        database: expect.objectContaining({ status: 'down', message: expect.any(String) }),
        migrations: expect.objectContaining({ status: 'down', message: expect.any(String) }),
      },
      details: expect.any(Object),
    });
    await request(host.getHttpServer()).get('/api/healthz').expect(200, { status: 'ok' });
  });
});
