import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { API, bearer, dbFingerprint, expectError } from './http-kit.js';

/**
 * DESIGN.md, host app: every answer carries `X-Content-Type-Options: nosniff` and no `X-Powered-By`; unknown
 * routes and auth errors answer in the `{ statusCode, code, message }` shape; too deeply nested JSON is a 400
 * before validation; `/docs` can be switched off (DOCS_ENABLED=false).
 */

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('HTTP hardening', () => {
  let db: TestDatabase;
  let host: HostTestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url);
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  const answers = () =>
    [
      ['GET /users/me (200)', host.http.get(`${API}/users/me`).set(bearer(host.tokens.member)), 200],
      ['GET /users/me without a token (401)', host.http.get(`${API}/users/me`), 401],
      [
        'POST /templates as a member (403)',
        host.http.post(`${API}/templates`).set(bearer(host.tokens.member)).send({}),
        403,
      ],
      ['an unknown route (404)', host.http.get(`${API}/no-such-route`), 404],
      [
        'malformed JSON (400)',
        host.http
          .post(`${API}/templates`)
          .set(bearer(host.tokens.owner))
          .set('Content-Type', 'application/json')
          .send('{'),
        400,
      ],
      ['GET /healthz (200)', host.http.get(`${API}/healthz`), 200],
      ['GET /docs-json (200)', host.http.get('/docs-json'), 200],
      ['the dashboard (200)', host.http.get('/'), 200],
    ] as const;

  it('every answer: X-Content-Type-Options: nosniff and no X-Powered-By', async () => {
    for (const [what, call, status] of answers()) {
      const res = await call;
      expect([what, res.status, res.headers['x-content-type-options'], res.headers['x-powered-by']]).toEqual([
        what,
        status,
        'nosniff',
        undefined,
      ]);
    }
  });

  it.each([
    ['GET', `${API}/no-such-route`],
    ['POST', `${API}/workspaces/x/y/z`],
    ['DELETE', '/nowhere'],
    ['GET', '/docs/../../etc/passwd'],
  ])('%s %s (unknown) → 404 in the error shape, with or without a token', async (method, path) => {
    for (const token of [null, host.tokens.member]) {
      let call = host.http[method.toLowerCase() as 'get' | 'post' | 'delete'](path);
      if (token) call = call.set(bearer(token));
      const res = await call.expect(404);
      expectError(res.body, 404, 'NOT_FOUND');
      expect(res.headers['content-type']).toMatch(/json/);
    }
  });

  it.each([
    ['no token', undefined],
    ['an unknown token', 'Bearer pbt_not-a-real-token-000000'],
    ['a malformed header', 'Basic YWRtaW46YWRtaW4='],
    ['an empty bearer', 'Bearer '],
  ])('auth errors in the shape: %s → 401 UNAUTHENTICATED', async (_what, authorization) => {
    for (const path of ['/users/me', '/users/me/tokens', '/prebuilds/status']) {
      let call = host.http.get(`${API}${path}`);
      if (authorization) call = call.set('Authorization', authorization);
      expectError((await call.expect(401)).body, 401, 'UNAUTHENTICATED');
    }
  });

  it.each([33, 64, 5_000, 50_000])(
    'a JSON body nested %d levels deep → 400 before validation, nothing written',
    async (depth) => {
      const before = await dbFingerprint(host.dataSource);
      const body = `{"name":"deep","version":${nested(depth - 1)}}`;
      const res = await host.http
        .post(`${API}/templates`)
        .set(bearer(host.tokens.owner))
        .set('Content-Type', 'application/json')
        .send(body)
        .expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        code: 'BAD_REQUEST',
        message: 'body: JSON nested deeper than 32 levels',
      });
      expect(await dbFingerprint(host.dataSource)).toEqual(before);
    },
  );

  it('32 levels, and brackets inside strings, reach validation as usual', async () => {
    const atLimit = await host.http
      .post(`${API}/templates`)
      .set(bearer(host.tokens.owner))
      .set('Content-Type', 'application/json')
      .send(`{"name":"deep","version":${nested(31)}}`)
      .expect(400);
    expectError(atLimit.body, 400, 'VALIDATION_FAILED');
    const inString = await host.http
      .post(`${API}/users/me/tokens`)
      .set(bearer(host.tokens.member))
      .send({ note: '['.repeat(100) + '\\"{'.repeat(50) })
      .expect(400);
    expectError(inString.body, 400, 'VALIDATION_FAILED');
    expect(inString.body.message).toMatch(/note/);
  });
});

describe('DOCS_ENABLED=false', () => {
  let db: TestDatabase;
  let host: HostTestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url, { DOCS_ENABLED: 'false' });
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  it('serves neither /docs nor /docs-json: 404 in the error shape; the API still answers', async () => {
    for (const path of ['/docs', '/docs/', '/docs-json']) {
      const res = await host.http.get(path).expect(404);
      expectError(res.body, 404, 'NOT_FOUND');
    }
    await host.http.get(`${API}/users/me`).set(bearer(host.tokens.member)).expect(200);
  });
});
