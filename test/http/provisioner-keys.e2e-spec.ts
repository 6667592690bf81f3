import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { API, bearer, dbFingerprint, expectError, UNKNOWN_ID, unique } from './http-kit.js';

const KEY_HEADER = 'Prebuilds-Provisioner-Key';

/** Polls `probe` until it returns true; the elapsed milliseconds, or a failure naming the deadline. */
async function within(deadlineMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    if (await probe()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`not within ${deadlineMs} ms`);
}

/**
 * Issue 16, provisioner keys: `POST /provisioner-keys { name, tags }` shows the key once, `GET` lists keys without
 * it, `DELETE /provisioner-keys/:id` revokes; all under `provisioners:admin` (the owner role only).
 */
describe('provisioner keys over HTTP', () => {
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

  const acquire = (app: HostTestApp, key: string | null, body: object = { workerId: 'w' }) => {
    const request = app.http.post(`${API}/provisioner/jobs/acquire`);
    return (key === null ? request : request.set(KEY_HEADER, key)).send(body);
  };

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

  it('authenticates the job API by the key alone: no bearer token needed, a user token is no key', async () => {
    const { key } = (
      await host.http
        .post(`${API}/provisioner-keys`)
        .set(asOwner())
        .send({ name: unique('k') })
        .expect(201)
    ).body;
    await acquire(host, key).expect(204);
    await acquire(replica, key).expect(204);
    // The owner's bearer token opens the admin routes, not the job API.
    const asUser = await host.http
      .post(`${API}/provisioner/jobs/acquire`)
      .set(asOwner())
      .send({ workerId: 'w' })
      .expect(401);
    expectError(asUser.body, 401, 'PROVISIONER_KEY_INVALID');
  });

  it.each([
    ['no key', null],
    ['an empty key', ''],
    ['a malformed key', 'not-a-key'],
    ['a well-formed key nobody issued', `pbk_00000000_${'A'.repeat(43)}`],
  ])('answers 401 PROVISIONER_KEY_INVALID for %s, before looking at the body', async (_name, key) => {
    const res = await acquire(host, key, { nonsense: true });
    expect(res.status).toBe(401);
    expectError(res.body, 401, 'PROVISIONER_KEY_INVALID');
    expect(res.body.message).toContain(KEY_HEADER);
  });

  it("refuses a key with another key's id prefix, and a live key's secret altered by one character", async () => {
    const a = (
      await host.http
        .post(`${API}/provisioner-keys`)
        .set(asOwner())
        .send({ name: unique('a') })
    ).body;
    const b = (
      await host.http
        .post(`${API}/provisioner-keys`)
        .set(asOwner())
        .send({ name: unique('b') })
    ).body;
    // pbk_<8 hex of the id>_<secret>: B's prefix with A's secret names neither key.
    const swapped = `${b.key.slice(0, 13)}${a.key.slice(13)}`;
    await acquire(host, a.key).expect(204);
    await acquire(host, swapped).expect(401);
    const last = a.key.at(-1) === 'A' ? 'B' : 'A';
    await acquire(host, `${a.key.slice(0, -1)}${last}`).expect(401);
  });

  it('refuses a revoked key on every replica within 1 s', async () => {
    const created = (
      await host.http
        .post(`${API}/provisioner-keys`)
        .set(asOwner())
        .send({ name: unique('r') })
        .expect(201)
    ).body;
    await acquire(host, created.key).expect(204);
    await acquire(replica, created.key).expect(204);
    await host.http.delete(`${API}/provisioner-keys/${created.id}`).set(asOwner()).expect(200);
    const elapsed = await within(1_000, async () => {
      const [here, there] = await Promise.all([acquire(host, created.key), acquire(replica, created.key)]);
      return here.status === 401 && there.status === 401;
    });
    expect(elapsed).toBeLessThan(1_000);
    expectError((await acquire(replica, created.key)).body, 401, 'PROVISIONER_KEY_INVALID');
  });

  it('ends a waiting acquire of a key revoked meanwhile with 401', async () => {
    const created = (
      await host.http
        .post(`${API}/provisioner-keys`)
        .set(asOwner())
        .send({ name: unique('w') })
        .expect(201)
    ).body;
    const waiting = acquire(replica, created.key, { workerId: 'w', waitMs: 20_000 }).then((res) => res);
    await host.http.delete(`${API}/provisioner-keys/${created.id}`).set(asOwner()).expect(200);
    const res = await waiting;
    expect(res.status).toBe(401);
    expectError(res.body, 401, 'PROVISIONER_KEY_INVALID');
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
