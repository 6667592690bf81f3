import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Get,
  type INestApplication,
  Logger,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { hashApiToken } from '../../src/host/auth/api-token.js';
import { BearerAuthMiddleware } from '../../src/host/auth/bearer-auth.middleware.js';
import { BootstrapAdminService } from '../../src/host/auth/bootstrap-admin.service.js';
import { UserRepository } from '../../src/host/auth/user.repository.js';
import { HostAuthModule } from '../../src/host/host-auth.module.js';
import { UsersModule } from '../../src/host/users/users.module.js';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { PrebuildsBodyErrorFilter } from '../../src/prebuilds/http/prebuilds-body-error.filter.js';
import { PrebuildsController } from '../../src/prebuilds/http/prebuilds-controller.decorator.js';
import { RequirePermission } from '../../src/prebuilds/rbac/require-permission.decorator.js';
import { CurrentSubject, type PrebuildsSubject } from '../../src/prebuilds/rbac/subject.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { ROLE_PERMISSIONS } from '../../src/host/auth/roles.js';
import { PrebuildsModule } from '../../src/prebuilds/prebuilds.module.js';

@PrebuildsController('dummy')
class DummyController {
  @Get()
  @RequirePermission('prebuilds:read')
  read(@CurrentSubject() subject: PrebuildsSubject) {
    return { subjectId: subject.id };
  }
}

const OWNER_TOKEN = 'pbt_owner-token-for-the-e2e-test';
const MEMBER_TOKEN = 'pbt_member-token-for-the-e2e-test';

describe('bearer authentication, RBAC and POST /users', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let ds: DataSource;
  let ownerId: string;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase();

    // The host's wiring, in small: the middleware for every route, the body-error filter globally.
    @Module({
      imports: [
        TypeOrmModule.forRoot(testDataSourceOptions(db.url, { poolSize: 4 })),
        // The guard on the host's routes is the module's, authorising by the host's role map.
        PrebuildsModule.forRoot({
          enabled: false,
          controllers: false,
          authorization: { rolePermissions: ROLE_PERMISSIONS },
        }),
        HostAuthModule,
        UsersModule,
      ],
      controllers: [DummyController],
      providers: [{ provide: APP_FILTER, useClass: PrebuildsBodyErrorFilter }],
    })
    class AuthTestModule implements NestModule {
      configure(consumer: MiddlewareConsumer): void {
        consumer.apply(BearerAuthMiddleware).forRoutes('{*path}');
      }
    }

    const moduleRef = await Test.createTestingModule({ imports: [AuthTestModule] })
      // Its owner bootstrap is the host's start-up business, not this test's.
      .overrideProvider(BootstrapAdminService)
      .useValue({})
      .compile();
    app = moduleRef.createNestApplication();
    app.setGlobalPrefix('api/v2');
    await app.init();
    ds = app.get(DataSource);
    const users = app.get(UserRepository);
    ownerId = (await users.createWithToken('olga', ['owner'], hashApiToken(OWNER_TOKEN)))!.id;
    await users.createWithToken('mia', ['member'], hashApiToken(MEMBER_TOKEN));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const http = () => request(app.getHttpServer());
  const userCount = async () => (await ds.query(`SELECT count(*)::int AS n FROM users`))[0].n as number;

  describe('authentication and RBAC on a route that requires prebuilds:read', () => {
    it('answers 401 without a token', async () => {
      const res = await http().get('/api/v2/dummy').expect(401);
      expect(res.body).toEqual({ statusCode: 401, code: 'UNAUTHENTICATED', message: expect.any(String) });
    });

    it.each([
      ['an unknown token', 'Bearer pbt_not-a-real-token'],
      ['a malformed header', 'Bearer'],
      ['another scheme', `Basic ${OWNER_TOKEN}`],
      ['the hash instead of the token', `Bearer ${hashApiToken(OWNER_TOKEN)}`],
    ])('answers 401 for %s', async (_case, header) => {
      const res = await http().get('/api/v2/dummy').set('Authorization', header).expect(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    });

    it('answers 403 FORBIDDEN to a member, naming the permission', async () => {
      const res = await http()
        .get('/api/v2/dummy')
        .set('Authorization', `Bearer ${MEMBER_TOKEN}`)
        .expect(403);
      expect(res.body).toEqual({
        statusCode: 403,
        code: 'FORBIDDEN',
        message: expect.stringContaining('prebuilds:read'),
      });
    });

    it('lets an owner in, with its subject on the request', async () => {
      for (let i = 0; i < 2; i++) {
        // The second request is served from the subject cache; it must answer the same.
        const res = await http()
          .get('/api/v2/dummy')
          .set('Authorization', `bearer ${OWNER_TOKEN}`)
          .expect(200);
        expect(res.body).toEqual({ subjectId: ownerId });
      }
    });
  });

  describe('POST /users', () => {
    const asOwner = () => http().post('/api/v2/users').set('Authorization', `Bearer ${OWNER_TOKEN}`);

    it('is denied to a member', async () => {
      const before = await userCount();
      const res = await http()
        .post('/api/v2/users')
        .set('Authorization', `Bearer ${MEMBER_TOKEN}`)
        .send({ username: 'sneaky', roles: ['owner'] })
        .expect(403);
      expect(res.body.message).toContain('users:create');
      expect(await userCount()).toBe(before);
    });

    it.each([
      ['an unknown field', { username: 'ann', roles: ['member'], admin: true }, 'admin'],
      ['an unknown role', { username: 'ann', roles: ['root'] }, 'roles'],
      ['empty roles', { username: 'ann', roles: [] }, 'roles'],
      ['roles that are not a list', { username: 'ann', roles: 'member' }, 'roles'],
      ['duplicate roles', { username: 'ann', roles: ['member', 'member'] }, 'roles'],
      ['a missing username', { roles: ['member'] }, 'username'],
      ['an upper-case username', { username: 'Ann', roles: ['member'] }, 'username'],
      ['a username starting with -', { username: '-ann', roles: ['member'] }, 'username'],
      ['an empty username', { username: '', roles: ['member'] }, 'username'],
      ['a 65-character username', { username: 'a'.repeat(65), roles: ['member'] }, 'username'],
      ['a numeric username', { username: 42, roles: ['member'] }, 'username'],
    ])('rejects %s with a 400 naming the field, writing nothing', async (_case, body, field) => {
      const before = await userCount();
      const res = await asOwner().send(body).expect(400);
      expect(res.body).toEqual({ statusCode: 400, code: 'VALIDATION_FAILED', message: expect.any(String) });
      expect(res.body.message).toContain(field);
      expect(await userCount()).toBe(before);
    });

    it('rejects an oversized body with 413 in our shape', async () => {
      const before = await userCount();
      const res = await asOwner()
        .send({ username: 'big', roles: ['member'], padding: 'x'.repeat(200_000) })
        .expect(413);
      expect(res.body).toEqual({
        statusCode: 413,
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.stringContaining('body'),
      });
      expect(await userCount()).toBe(before);
    });

    it('rejects malformed JSON with 400 in our shape', async () => {
      const res = await asOwner()
        .set('Content-Type', 'application/json')
        .send('{"username": "x",')
        .expect(400);
      expect(res.body).toEqual({ statusCode: 400, code: 'BAD_REQUEST', message: 'body: malformed JSON' });
    });

    it('creates a user whose token works at once and is stored only as its hash', async () => {
      const res = await asOwner()
        .send({ username: 'tina_2', roles: ['template-admin', 'auditor'] })
        .expect(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        username: 'tina_2',
        roles: ['template-admin', 'auditor'],
        token: expect.stringMatching(/^pbt_/),
      });
      const { id, token } = res.body as { id: string; token: string };

      const stored = await ds.query(`SELECT token_hash FROM api_tokens WHERE user_id = $1`, [id]);
      expect(stored).toEqual([{ token_hash: hashApiToken(token) }]);
      const leaks = await ds.query(
        `SELECT count(*)::int AS n FROM api_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.token_hash = $1 OR u.username = $1 OR $1 = ANY(u.roles)`,
        [token],
      );
      expect(leaks[0].n).toBe(0);

      // template-admin and auditor both grant prebuilds:read, neither grants users:create.
      await http().get('/api/v2/dummy').set('Authorization', `Bearer ${token}`).expect(200);
      await http()
        .post('/api/v2/users')
        .set('Authorization', `Bearer ${token}`)
        .send({ username: 'other', roles: ['member'] })
        .expect(403);
    });

    it('answers 409 NAME_TAKEN for a duplicate username and keeps one user', async () => {
      await asOwner()
        .send({ username: 'dup', roles: ['member'] })
        .expect(201);
      const before = await userCount();
      const res = await asOwner()
        .send({ username: 'dup', roles: ['auditor'] })
        .expect(409);
      expect(res.body).toEqual({
        statusCode: 409,
        code: 'NAME_TAKEN',
        message: expect.stringContaining('username'),
      });
      expect(await userCount()).toBe(before);
      expect(await ds.query(`SELECT roles FROM users WHERE username = 'dup'`)).toEqual([
        { roles: ['member'] },
      ]);
    });
  });
});
