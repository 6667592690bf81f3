import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';
import { API, bearer, dbFingerprint, expectError, UNKNOWN_ID, unique } from './http-kit.js';

/**
 * DESIGN.md, host app: `GET/POST /users/me/tokens`, `DELETE /users/me/tokens/:id` (any user), `PATCH /users/:id`,
 * `DELETE /users/:id` (owner), "a revoked token fails on every replica within 1 s": two apps on one database stand
 * for two replicas, each with its own auth cache.
 */

/** Polls `probe` until it returns true; the elapsed milliseconds, or a failure naming the deadline. */
async function within(deadlineMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  await waitFor(probe, { timeoutMs: deadlineMs, message: 'the change on the other replica' });
  return Date.now() - started;
}

async function newUser(host: HostTestApp, roles = ['member']) {
  const res = await host.http
    .post(`${API}/users`)
    .set(bearer(host.tokens.owner))
    .send({ username: unique('user'), roles })
    .expect(201);
  return { id: res.body.id as string, token: res.body.token as string };
}

const me = (host: HostTestApp, token: string) => host.http.get(`${API}/users/me`).set(bearer(token));

describe('token lifecycle and user management', () => {
  let db: TestDatabase;
  let host: HostTestApp;
  /** Another replica on the same database. */
  let replica: HostTestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url);
    replica = await createHostTestApp(db.url, {}, { userPrefix: 'replica' });
  });
  afterAll(async () => {
    await replica?.close();
    await host?.close();
    await db?.drop();
  });

  it('lists my tokens without their value or digest; POST creates one, shown once, with Cache-Control: no-store', async () => {
    const user = await newUser(host);
    const listed = await host.http.get(`${API}/users/me/tokens`).set(bearer(user.token)).expect(200);
    expect(listed.body).toEqual([
      {
        id: expect.any(String),
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        expiresAt: null,
      },
    ]);
    const [hash] = await host.dataSource.query(`SELECT token_hash FROM api_tokens WHERE user_id = $1`, [
      user.id,
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(hash.token_hash);

    const created = await host.http
      .post(`${API}/users/me/tokens`)
      .set(bearer(user.token))
      .send({})
      .expect(201);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.body).toEqual({
      id: expect.any(String),
      createdAt: expect.any(String),
      lastUsedAt: null,
      expiresAt: null,
      token: expect.stringMatching(/^pbt_/),
    });
    expect((await me(host, created.body.token).expect(200)).body.id).toBe(user.id);
    const after = await host.http.get(`${API}/users/me/tokens`).set(bearer(created.body.token)).expect(200);
    expect(after.body.map((t: { id: string }) => t.id)).toEqual([listed.body[0].id, created.body.id]);
    expect(after.body[1].lastUsedAt).not.toBeNull();
    expect(JSON.stringify(after.body)).not.toContain(created.body.token);
  });

  it('POST /users (carries a token) answers Cache-Control: no-store', async () => {
    const res = await host.http
      .post(`${API}/users`)
      .set(bearer(host.tokens.owner))
      .send({ username: unique('nocache'), roles: ['member'] })
      .expect(201);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('a token with expiresInSeconds works until then, and is refused afterwards even if cached', async () => {
    const user = await newUser(host);
    const created = await host.http
      .post(`${API}/users/me/tokens`)
      .set(bearer(user.token))
      .send({ expiresInSeconds: 1 })
      .expect(201);
    const lifetime = Date.parse(created.body.expiresAt) - Date.parse(created.body.createdAt);
    expect(lifetime).toBeGreaterThanOrEqual(999);
    expect(lifetime).toBeLessThanOrEqual(1001);
    await me(host, created.body.token).expect(200);
    await within(3_000, async () => (await me(host, created.body.token)).status === 401);
    expectError((await me(host, created.body.token)).body, 401, 'UNAUTHENTICATED');
  });

  it.each([
    [{ expiresInSeconds: 0 }],
    [{ expiresInSeconds: -5 }],
    [{ expiresInSeconds: 1.5 }],
    [{ expiresInSeconds: '60' }],
    [{ expiresInSeconds: 315_360_001 }],
    [{ name: 'extra' }],
  ])('POST /users/me/tokens %j → 400 naming the field, nothing written', async (body) => {
    const before = await dbFingerprint(host.dataSource);
    const res = await host.http
      .post(`${API}/users/me/tokens`)
      .set(bearer(host.tokens.member))
      .send(body)
      .expect(400);
    expectError(res.body, 400, 'VALIDATION_FAILED');
    expect(res.body.message).toMatch(Object.keys(body)[0]);
    expect(await dbFingerprint(host.dataSource)).toEqual(before);
  });

  it('at most 50 tokens per user: the 51st is a 409, nothing written', async () => {
    const user = await newUser(host);
    for (let i = 1; i < 50; i++)
      await host.http.post(`${API}/users/me/tokens`).set(bearer(user.token)).expect(201);
    const before = await dbFingerprint(host.dataSource);
    const res = await host.http.post(`${API}/users/me/tokens`).set(bearer(user.token)).expect(409);
    expectError(res.body, 409, 'CONFLICT');
    expect(await dbFingerprint(host.dataSource)).toEqual(before);
  });

  it("DELETE /users/me/tokens/:id revokes my token at once; someone else's or an unknown id is a 404", async () => {
    const user = await newUser(host);
    const other = await newUser(host);
    const spare = await host.http.post(`${API}/users/me/tokens`).set(bearer(user.token)).expect(201);
    await me(host, spare.body.token).expect(200); // cached now
    const [otherToken] = await host.dataSource.query(`SELECT id FROM api_tokens WHERE user_id = $1`, [
      other.id,
    ]);

    const before = await dbFingerprint(host.dataSource);
    for (const id of [otherToken.id, UNKNOWN_ID]) {
      const res = await host.http.delete(`${API}/users/me/tokens/${id}`).set(bearer(user.token)).expect(404);
      expectError(res.body, 404, 'NOT_FOUND');
    }
    expect(await dbFingerprint(host.dataSource)).toEqual(before);
    await me(host, other.token).expect(200);

    await host.http.delete(`${API}/users/me/tokens/${spare.body.id}`).set(bearer(user.token)).expect(204);
    expectError((await me(host, spare.body.token).expect(401)).body, 401, 'UNAUTHENTICATED');
    await me(host, user.token).expect(200);
  });

  it('a token revoked on one replica fails on the other within 1 s (its cache would have kept it 5 s)', async () => {
    const user = await newUser(host);
    const spare = await host.http.post(`${API}/users/me/tokens`).set(bearer(user.token)).expect(201);
    await me(replica, spare.body.token).expect(200); // now in the replica's cache
    await me(replica, spare.body.token).expect(200);

    await host.http.delete(`${API}/users/me/tokens/${spare.body.id}`).set(bearer(user.token)).expect(204);
    const elapsed = await within(1_000, async () => (await me(replica, spare.body.token)).status === 401);
    expect(elapsed).toBeLessThan(1_000);
    await me(replica, user.token).expect(200);
  });

  it('a role change on one replica shows on the other within 1 s; a removed user fails there within 1 s', async () => {
    const user = await newUser(host);
    expect((await me(replica, user.token).expect(200)).body.roles).toEqual(['member']);

    const patched = await host.http
      .patch(`${API}/users/${user.id}`)
      .set(bearer(host.tokens.owner))
      .send({ roles: ['auditor'] })
      .expect(200);
    expect(patched.body).toEqual({ id: user.id, username: expect.any(String), roles: ['auditor'] });
    expect((await me(host, user.token).expect(200)).body.roles).toEqual(['auditor']);
    await within(1_000, async () => (await me(replica, user.token)).body.roles?.[0] === 'auditor');
    // The new role's permissions apply at once: auditors may not create workspaces.
    const refused = await replica.http
      .post(`${API}/workspaces`)
      .set(bearer(user.token))
      .send({ templateId: UNKNOWN_ID, name: 'x' });
    expectError(refused.body, 403, 'FORBIDDEN');

    await host.http.delete(`${API}/users/${user.id}`).set(bearer(host.tokens.owner)).expect(204);
    await within(1_000, async () => (await me(replica, user.token)).status === 401);
    await me(host, user.token).expect(401);
    const rows = await host.dataSource.query(`SELECT 1 FROM api_tokens WHERE user_id = $1`, [user.id]);
    expect(rows).toEqual([]);
  });

  it('PATCH and DELETE /users/:id: 404 unknown, 400 bad roles, 403 for non-owners, nothing written', async () => {
    const user = await newUser(host);
    const before = await dbFingerprint(host.dataSource);
    const owner = bearer(host.tokens.owner);
    expectError(
      (
        await host.http
          .patch(`${API}/users/${UNKNOWN_ID}`)
          .set(owner)
          .send({ roles: ['member'] })
          .expect(404)
      ).body,
      404,
      'NOT_FOUND',
    );
    expectError(
      (await host.http.delete(`${API}/users/${UNKNOWN_ID}`).set(owner).expect(404)).body,
      404,
      'NOT_FOUND',
    );
    for (const roles of [[], ['root'], ['member', 'member'], 'owner']) {
      const res = await host.http.patch(`${API}/users/${user.id}`).set(owner).send({ roles }).expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.message).toMatch(/roles/);
    }
    for (const role of ['template-admin', 'auditor', 'member'] as const) {
      await host.http
        .patch(`${API}/users/${user.id}`)
        .set(bearer(host.tokens[role]))
        .send({ roles: ['owner'] })
        .expect(403);
      await host.http.delete(`${API}/users/${user.id}`).set(bearer(host.tokens[role])).expect(403);
    }
    expect(await dbFingerprint(host.dataSource)).toEqual(before);
  });

  it('the last owner can be neither demoted nor removed (409); two owners demoting each other leave one', async () => {
    const owner = bearer(host.tokens.owner);
    const adminId = host.userIds.owner;
    const before = await dbFingerprint(host.dataSource);
    expectError(
      (
        await host.http
          .patch(`${API}/users/${adminId}`)
          .set(owner)
          .send({ roles: ['member'] })
          .expect(409)
      ).body,
      409,
      'CONFLICT',
    );
    expectError(
      (await host.http.delete(`${API}/users/${adminId}`).set(owner).expect(409)).body,
      409,
      'CONFLICT',
    );
    expect(await dbFingerprint(host.dataSource)).toEqual(before);

    const second = await newUser(host, ['owner']);
    const results = await Promise.all([
      host.http
        .patch(`${API}/users/${adminId}`)
        .set(bearer(second.token))
        .send({ roles: ['member'] }),
      replica.http
        .patch(`${API}/users/${second.id}`)
        .set(owner)
        .send({ roles: ['member'] }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const owners = await host.dataSource.query(`SELECT id FROM users WHERE 'owner' = ANY(roles)`);
    expect(owners).toHaveLength(1);
    // Restore the admin as the one owner for the other tests.
    const survivor = owners[0].id === adminId ? host.tokens.owner : second.token;
    await host.http
      .patch(`${API}/users/${adminId}`)
      .set(bearer(survivor))
      .send({ roles: ['owner'] })
      .expect(200);
    await host.http.delete(`${API}/users/${second.id}`).set(owner).expect(204);
  });
});
