import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { SchemaOwnerCheck } from '../../src/prebuilds/database/schema-owner-check.js';
import { TemplateCatalogService } from '../../src/prebuilds/catalog/template-catalog.service.js';
import { PrebuildsModule } from '../../src/prebuilds/prebuilds.module.js';
import { attachSubject } from '../../src/prebuilds/rbac/subject.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { testDataSourceOptions } from '../support/test-data-source.js';

@Controller('prebuilds')
class HostOwnPrebuildsController {
  @Get('status')
  status() {
    return { host: 'own' };
  }
}

const ALLOW_ALL = { authorize: () => true };

async function mount(
  url: string,
  defaultUrl: string,
  extras: Record<string, unknown>,
  controllers: unknown[] = [],
) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      // The host's DataSources: its default one is a database without the module's schema; 'ops' has it.
      TypeOrmModule.forRoot(testDataSourceOptions(defaultUrl, { poolSize: 2 })),
      TypeOrmModule.forRoot({ ...testDataSourceOptions(url, { poolSize: 4 }), name: 'ops' }),
      PrebuildsModule.forRoot({ enabled: false, authorization: ALLOW_ALL, ...extras }),
    ],
    controllers: controllers as never[],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.use((req: object, _res: unknown, next: () => void) => {
    attachSubject(req, { id: 'ops-1' });
    next();
  });
  app.setGlobalPrefix('api');
  try {
    await app.init();
  } catch (error) {
    // A start that fails half-way leaves started providers (the pubsub listener) running: close them.
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

describe('mounting options: a named DataSource, a path, controllers off, the provisioner API', () => {
  let db: TestDatabase;
  let other: TestDatabase;
  let app: INestApplication | null = null;

  beforeAll(async () => {
    db = await createTestDatabase();
    other = await createTestDatabase({ migrated: false });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await other?.drop();
  });

  it('mounts its routes under the path and queries the named DataSource', async () => {
    app = await mount(db.url, other.url, { dataSource: 'ops', path: 'ops' });
    const catalog = app.get(TemplateCatalogService);
    const template = await catalog.registerTemplate({
      id: '1001',
      organizationId: '7',
      name: 'named-ds',
      version: { name: 'v1', presets: [{ name: 'p', prebuilds: { instances: 1 } }] },
    });
    const status = await request(app.getHttpServer()).get('/api/ops/prebuilds/status').expect(200);
    expect(status.body.presets.map((p: { templateId: string }) => p.templateId)).toContain('1001');
    await request(app.getHttpServer()).get('/api/prebuilds/status').expect(404);

    // The catalog's other writes, by the host's ids.
    const v2 = await catalog.publishVersion('1001', {
      version: { name: 'v2', presets: [{ name: 'q', prebuilds: { instances: 2 } }] },
    });
    expect(v2.active).toBe(false);
    await catalog.activateVersion('1001', v2.id);
    expect((await catalog.getTemplate('1001')).activeVersion?.id).toBe(v2.id);
    await catalog.activateVersion('1001', template.activeVersion.id);
    expect((await catalog.getTemplate('1001')).activeVersion?.id).toBe(template.activeVersion.id);
    await expect(
      catalog.activateVersion('1001', '00000000-0000-4000-8000-000000000000'),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const presetId = template.activeVersion.presets[0].id;
    await catalog.setPresetInstances(presetId, 4);
    expect((await catalog.getTemplate('1001')).activeVersion?.presets[0].prebuilds?.instances).toBe(4);
    await expect(catalog.setPresetInstances(presetId, 100_000)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(catalog.setPresetInstances('00000000-0000-4000-8000-000000000000', 1)).rejects.toMatchObject(
      {
        code: 'PRESET_NOT_FOUND',
      },
    );
    await app.close();
    app = null;
  });

  it('refuses to start with another prebuilds owner id than the schema was migrated for', async () => {
    await expect(mount(db.url, db.url, { prebuildsOwnerId: 'not-the-migrated-one' })).rejects.toThrow(
      'prebuilds schema "prebuilds" was created for prebuildsOwnerId',
    );
  });

  it('passes the owner check on a database whose schema is not migrated yet', async () => {
    // Readiness reports the pending migrations; the start must not fail on the missing settings table.
    const unmigrated = await new DataSource(testDataSourceOptions(other.url, { poolSize: 1 })).initialize();
    try {
      await expect(
        new SchemaOwnerCheck(unmigrated, new PrebuildsNamespace()).onModuleInit(),
      ).resolves.toBeUndefined();
    } finally {
      await unmigrated.destroy();
    }
  });

  it('mounts the external provisioner API only when the host opts in (provisionerApi), under its path', async () => {
    app = await mount(db.url, db.url, {});
    await request(app.getHttpServer()).get('/api/provisioner-keys').expect(404);
    await request(app.getHttpServer())
      .post('/api/provisioner/jobs/acquire')
      .send({ workerId: 'w' })
      .expect(404);
    await app.close();
    app = await mount(db.url, db.url, { provisionerApi: true, path: 'ops' });
    await request(app.getHttpServer()).get('/api/ops/provisioner-keys').expect(200);
    const refused = await request(app.getHttpServer())
      .post('/api/ops/provisioner/jobs/acquire')
      .send({ workerId: 'w' })
      .expect(401);
    expect(refused.body.code).toBe('PROVISIONER_KEY_INVALID');
    await app.close();
    app = await mount(db.url, db.url, { provisionerApi: true, controllers: false });
    await request(app.getHttpServer()).get('/api/provisioner-keys').expect(404);
    await app.close();
    app = null;
  });

  it('maps no route with controllers off, so the host keeps its own paths', async () => {
    app = await mount(db.url, db.url, { controllers: false }, [HostOwnPrebuildsController]);
    const res = await request(app.getHttpServer()).get('/api/prebuilds/status').expect(200);
    expect(res.body).toEqual({ host: 'own' });
    await request(app.getHttpServer()).get('/api/metrics').expect(404);
    expect(app.get(TemplateCatalogService)).toBeInstanceOf(TemplateCatalogService);
  });
});
