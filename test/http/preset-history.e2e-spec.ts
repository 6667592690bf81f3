import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../support/fake-clock.js';
import { createHostTestApp, type HostTestApp, settleBatchedWrites } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import {
  adminClient,
  type AdminClient,
  API,
  bearer,
  createTemplate,
  type CreatedTemplate,
  expectError,
  unique,
  UNKNOWN_ID,
} from './http-kit.js';

/** GET /prebuilds/presets/:id/history over HTTP, on a fake clock; the loop and the provisioner are off. */

describe('GET /prebuilds/presets/:id/history', () => {
  let db: TestDatabase;
  let host: HostTestApp;
  let admin: AdminClient;
  let t: CreatedTemplate;
  let presetId: string;
  const clock = new FakeClock('2026-06-01T12:00:20Z');
  const history = (query = '', token = host.tokens.owner, id = presetId) =>
    host.http.get(`${API}/prebuilds/presets/${id}/history${query}`).set(bearer(token));

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url, {}, { clock });
    admin = adminClient(host);
    t = await createTemplate(host, [{ name: 'pool', prebuilds: { instances: 1 } }]);
    presetId = t.presetIds.pool;

    // 12:00 — a full cycle creates the prebuild; 12:01 — a member's workspace misses (the prebuild is still
    // building), then another full cycle.
    await admin.reconcile({}).expect(200);
    clock.set('2026-06-01T12:01:20Z');
    const created = await host.http
      .post(`${API}/workspaces`)
      .set(bearer(host.tokens.member))
      .send({ templateId: t.id, presetId, name: unique('ws') })
      .expect(201);
    expect(created.body.claimed).toBe(false);
    await settleBatchedWrites(host.dataSource);
    await admin.reconcile({}).expect(200);
    clock.set('2026-06-01T12:01:40Z');
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  it('answers the last hour in minute buckets, oldest first (the default window)', async () => {
    const res = await history().expect(200);
    expect(res.headers['content-type']).toMatch(/json/);
    expect(res.body).toEqual({
      presetId,
      window: '1h',
      resolutionSeconds: 60,
      from: '2026-06-01T11:01:40.000Z',
      to: '2026-06-01T12:01:40.000Z',
      samples: [
        {
          at: '2026-06-01T12:00:00.000Z',
          desired: 1,
          running: 0,
          eligible: 0,
          starting: 0,
          claims: 0,
          misses: 0,
        },
        {
          at: '2026-06-01T12:01:00.000Z',
          desired: 1,
          running: 0,
          eligible: 0,
          starting: 1,
          claims: 0,
          misses: 1,
        },
      ],
    });
    expect((await history('?window=1h').expect(200)).body).toEqual(res.body);
  });

  it.each([
    ['24h', 900, '2026-05-31T12:01:40.000Z'],
    ['7d', 7200, '2026-05-25T12:01:40.000Z'],
  ])('answers window=%s in %i s buckets', async (window, resolutionSeconds, from) => {
    const res = await history(`?window=${window}`).expect(200);
    expect(res.body).toEqual({
      presetId,
      window,
      resolutionSeconds,
      from,
      to: '2026-06-01T12:01:40.000Z',
      // One bucket holds both cycles: the last one's gauges, both cycles' misses.
      samples: [
        {
          at: '2026-06-01T12:00:00.000Z',
          desired: 1,
          running: 0,
          eligible: 0,
          starting: 1,
          claims: 0,
          misses: 1,
        },
      ],
    });
  });

  it('leaves out the buckets that are older than the window', async () => {
    clock.set('2026-06-01T13:00:30Z');
    try {
      const res = await history().expect(200);
      expect(res.body.from).toBe('2026-06-01T12:00:30.000Z');
      expect(res.body.samples.map((s: { at: string }) => s.at)).toEqual(['2026-06-01T12:01:00.000Z']);
    } finally {
      clock.set('2026-06-01T12:01:40Z');
    }
  });

  it('answers an empty history for a preset no cycle has sampled yet', async () => {
    const other = await createTemplate(host, [{ name: 'fresh', prebuilds: { instances: 1 } }]);
    expect((await history('', host.tokens.owner, other.presetIds.fresh).expect(200)).body).toMatchObject({
      presetId: other.presetIds.fresh,
      samples: [],
    });
  });

  it.each([
    ['?window=2h', /window must be one of 1h, 24h, 7d/],
    ['?window=', /window must be one of 1h, 24h, 7d/],
    ['?window=1h&window=24h', /window must be one of 1h, 24h, 7d/],
    ['?resolution=60', /resolution/],
  ])('refuses %s with a 400 naming the field', async (query, message) => {
    const res = await history(query).expect(400);
    expectError(res.body, 400, 'VALIDATION_FAILED');
    expect(res.body.message).toMatch(message);
  });

  it('refuses an id that is not a UUID (400) and an unknown preset (404)', async () => {
    const bad = await history('', host.tokens.owner, 'not-a-uuid').expect(400);
    expectError(bad.body, 400, 'VALIDATION_FAILED');
    expect(bad.body.message).toMatch(/id must be a UUID/);
    expectError((await history('', host.tokens.owner, UNKNOWN_ID).expect(404)).body, 404, 'PRESET_NOT_FOUND');
  });

  it('needs prebuilds:read: 401 without a token, 403 for a member, 200 for an auditor', async () => {
    expectError(
      (await host.http.get(`${API}/prebuilds/presets/${presetId}/history`).expect(401)).body,
      401,
      'UNAUTHENTICATED',
    );
    const denied = await history('', host.tokens.member).expect(403);
    expectError(denied.body, 403, 'FORBIDDEN');
    expect(denied.body.message).toContain('prebuilds:read');
    expect((await history('', host.tokens.auditor).expect(200)).body.samples).toHaveLength(2);
  });
});
