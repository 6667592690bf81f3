import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { NotificationBatcher } from '../../src/prebuilds/pubsub/notification-batcher.service.js';
import { AppModule } from '../../src/app.module.js';
import { type HostConfig, loadHostConfig } from '../../src/host/config/host-config.js';
import { createHostHttpAdapter, setupHostApp } from '../../src/host/http/setup-host-app.js';
import { Clock } from '../../src/prebuilds/clock/clock.js';
import { FakeClock } from './fake-clock.js';

/** The module's batch of wake-ups and claim events per host, by its DataSource. */
const batchers = new WeakMap<DataSource, NotificationBatcher>();

/**
 * Waits until the writes that follow a request's response (claim events, batched for notifyFlushMs) are in the
 * database, so that a "nothing was written" comparison is not fooled by a previous request's late events.
 */
export async function settleBatchedWrites(dataSource: DataSource): Promise<void> {
  await batchers.get(dataSource)?.flush();
}

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface HostTestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  dataSource: DataSource;
  config: HostConfig;
  /** Bearer tokens of one user per role, created through POST /users. */
  tokens: Record<'owner' | 'template-admin' | 'auditor' | 'member', string>;
  userIds: Record<'owner' | 'template-admin' | 'auditor' | 'member', string>;
  close(): Promise<void>;
}

/**
 * The whole host app in process (what `npm start` serves, minus the listening socket), on a test database: the
 * reconcile loop, the simulated provisioner and the demo seed are off unless `env` turns them on. A second app on
 * the same database (another replica) needs another `userPrefix` for its users per role.
 */
export async function createHostTestApp(
  databaseUrl: string,
  env: Record<string, string> = {},
  { clock, userPrefix = 'test' }: { clock?: FakeClock; userPrefix?: string } = {},
): Promise<HostTestApp> {
  const config = loadHostConfig({
    LOG_LEVEL: 'silent',
    PREBUILDS_ENABLED: 'false',
    PROVISIONER_ENABLED: 'false',
    SEED_DEMO: 'false',
    BOOTSTRAP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ...env,
  });
  let builder = Test.createTestingModule({ imports: [AppModule.register({ config, databaseUrl })] });
  if (clock) builder = builder.overrideProvider(Clock).useValue(clock);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createHostHttpAdapter(), {
    logger: false,
  });
  setupHostApp(app, config);
  await app.init();
  // Fastify registers its routes once ready; supertest's requests go straight to the server.
  await app.getHttpAdapter().getInstance().ready();
  const http = request(app.getHttpServer());
  const tokens = { owner: TEST_ADMIN_TOKEN } as HostTestApp['tokens'];
  const userIds = {} as HostTestApp['userIds'];
  const [admin] = await app
    .get<DataSource>(getDataSourceToken())
    .query(`SELECT id FROM users WHERE username = 'admin'`);
  userIds.owner = admin.id;
  for (const role of ['template-admin', 'auditor', 'member'] as const) {
    const created = await http
      .post('/api/v2/users')
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .send({ username: `${userPrefix}-${role}`, roles: [role] })
      .expect(201);
    tokens[role] = created.body.token;
    userIds[role] = created.body.id;
  }
  const dataSource = app.get<DataSource>(getDataSourceToken());
  batchers.set(dataSource, app.get(NotificationBatcher));
  return {
    app,
    http,
    dataSource,
    config,
    tokens,
    userIds,
    close: () => app.close(),
  };
}
