import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { API, bearer, dbFingerprint, expectError, UNKNOWN_ID, unique } from './http-kit.js';

/**
 * Issue 16, provisioner keys: `POST /provisioner-keys { name, tags }` shows the key once, `GET` lists keys without
 * it, `DELETE /provisioner-keys/:id` revokes; all under `provisioners:admin` (the owner role only).
 */
describe('provisioner keys over HTTP', () => {
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

  const asOwner = () => bearer(host.tokens.owner);

  it('creates a key shown once, lists it without the secret, stores only its digest', async () => {
    const name = unique('pool');
    const created = await host.http
      .post(`${API}/provisioner-keys`)
      .set(asOwner())
      .send({ name, tags: { is_prebuild: 'true', region: 'eu' } })
      .expect(201);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.body).toEqual({
      id: expect.any(String),
      name,
      tags: { is_prebuild: 'true', region: 'eu' },
      createdAt: expect.any(String),
      revokedAt: null,
      key: expect.stringMatching(/^pbk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/),
    });
    const key: string = created.body.key;
    expect(key.slice(4, 12)).toBe(created.body.id.replaceAll('-', '').slice(0, 8));

    const listed = await host.http.get(`${API}/provisioner-keys`).set(asOwner()).expect(200);
    const mine = listed.body.find((k: { id: string }) => k.id === created.body.id);
    expect(mine).toEqual({
      id: created.body.id,
      name,
      tags: { is_prebuild: 'true', region: 'eu' },
      createdAt: created.body.createdAt,
      revokedAt: null,
    });
    const secret = key.split('_').slice(2).join('_');
    const [row] = await host.dataSource.query(`SELECT * FROM prebuilds.provisioner_keys WHERE id = $1`, [
      created.body.id,
    ]);
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(JSON.stringify(listed.body)).not.toContain(row.secret_hash);
  });

  it('refuses a second live key of one name (409), and frees the name once the key is revoked', async () => {
    const name = unique('dup');
    const first = await host.http.post(`${API}/provisioner-keys`).set(asOwner()).send({ name }).expect(201);
    expect(first.body.tags).toEqual({});
    const again = await host.http.post(`${API}/provisioner-keys`).set(asOwner()).send({ name }).expect(409);
    expectError(again.body, 409, 'NAME_TAKEN');
    await host.http.delete(`${API}/provisioner-keys/${first.body.id}`).set(asOwner()).expect(200);
    await host.http.post(`${API}/provisioner-keys`).set(asOwner()).send({ name }).expect(201);
  });

  it('revokes: 200 with revokedAt, listed as revoked; revoking again keeps the first time; unknown id 404', async () => {
    const created = await host.http
      .post(`${API}/provisioner-keys`)
      .set(asOwner())
      .send({ name: unique('gone') })
      .expect(201);
    const revoked = await host.http
      .delete(`${API}/provisioner-keys/${created.body.id}`)
      .set(asOwner())
      .expect(200);
    expect(revoked.body).toEqual(
      expect.objectContaining({ id: created.body.id, revokedAt: expect.any(String) }),
    );
    expect(revoked.body.key).toBeUndefined();
    const again = await host.http
      .delete(`${API}/provisioner-keys/${created.body.id}`)
      .set(asOwner())
      .expect(200);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    const listed = await host.http.get(`${API}/provisioner-keys`).set(asOwner()).expect(200);
    expect(listed.body.find((k: { id: string }) => k.id === created.body.id).revokedAt).toBe(
      revoked.body.revokedAt,
    );
    const unknown = await host.http
      .delete(`${API}/provisioner-keys/${UNKNOWN_ID}`)
      .set(asOwner())
      .expect(404);
    expectError(unknown.body, 404, 'PROVISIONER_KEY_NOT_FOUND');
    expectError(
      (await host.http.delete(`${API}/provisioner-keys/nope`).set(asOwner()).expect(400)).body,
      400,
      'VALIDATION_FAILED',
    );
  });

  it.each([
    [{}, /name/],
    [{ name: 'bad name!' }, /name/],
    [{ name: 'ok', tags: ['a'] }, /tags/],
    [{ name: 'ok', tags: { region: 3 } }, /tags\.region/],
    [{ name: 'ok', tags: { is_prebuild: 'yes' } }, /tags\.is_prebuild/],
    [{ name: 'ok', extra: true }, /extra/],
  ])('answers 400 naming the field for %j, writing nothing', async (body, field) => {
    const before = await dbFingerprint(host.dataSource);
    const res = await host.http.post(`${API}/provisioner-keys`).set(asOwner()).send(body).expect(400);
    expectError(res.body, 400, 'VALIDATION_FAILED');
    expect(res.body.message).toMatch(field);
    expect(await dbFingerprint(host.dataSource)).toEqual(before);
  });

  it.each(['template-admin', 'auditor', 'member'] as const)(
    'is refused to %s (403) and to nobody (401)',
    async (role) => {
      const res = await host.http
        .post(`${API}/provisioner-keys`)
        .set(bearer(host.tokens[role]))
        .send({ name: unique('x') })
        .expect(403);
      expectError(res.body, 403, 'FORBIDDEN');
      await host.http.get(`${API}/provisioner-keys`).set(bearer(host.tokens[role])).expect(403);
      await host.http.get(`${API}/provisioner-keys`).expect(401);
    },
  );
});
