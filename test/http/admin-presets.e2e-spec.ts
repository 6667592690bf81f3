import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../support/fake-clock.js';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import {
  adminClient,
  type AdminClient,
  API,
  bearer,
  createTemplate,
  dbFingerprint,
  expectError,
  insertRunning,
  resultOf,
  UNKNOWN_ID,
} from './http-kit.js';

/** Resume, invalidate and unknown ids over HTTP, on a fake clock; the loop and the provisioner are off. */

const MINUTE = 60_000;

describe('admin routes: resume, invalidate, unknown ids', () => {
  let db: TestDatabase;
  let host: HostTestApp;
  let admin: AdminClient;
  const clock = new FakeClock('2026-06-01T12:00:00Z');
  const auth = () => bearer(host.tokens.owner);

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url, {}, { clock });
    admin = adminClient(host);
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  describe('POST /prebuilds/presets/:id/resume', () => {
    /** A preset whose last three prebuild starts failed ten minutes ago: the hard limit (3) is reached. */
    async function failingPreset() {
      const t = await createTemplate(host, [{ name: 'flaky', prebuilds: { instances: 1 } }]);
      await insertRunning(host, t, 'flaky', {
        count: 3,
        now: clock.now(),
        ageMs: 10 * MINUTE,
        jobStatus: 'failed',
      });
      return { t, presetId: t.presetIds.flaky };
    }
    const resume = (presetId: string) =>
      host.http.post(`${API}/prebuilds/presets/${presetId}/resume`).set(auth()).expect(200);

    it('clears a hard limit the loop recorded: status healthy, and creation starts again', async () => {
      const { t, presetId } = await failingPreset();
      const limited = await admin.reconcile({ templateId: t.id }).expect(200);
      expect(resultOf(limited.body, presetId)).toMatchObject({ actions: [] });
      expect(await admin.presetStatus(presetId)).toMatchObject({ status: 'hard_limited', failed: 3 });

      expect((await resume(presetId)).body).toEqual({ presetId, status: 'healthy' });
      // The failed prebuilds are still reported, for an operator to clean up; they no longer block creation.
      expect(await admin.presetStatus(presetId)).toMatchObject({
        status: 'healthy',
        backoffUntil: null,
        failed: 3,
      });
      const again = await admin.reconcile({ templateId: t.id }).expect(200);
      expect(resultOf(again.body, presetId)).toMatchObject({ actions: [{ type: 'create', count: 1 }] });
    });

    // Status computes the hard limit live, so resume must clear it even before any cycle has stored it.
    it('clears a hard limit that status shows but no cycle has recorded yet', async () => {
      const { t, presetId } = await failingPreset();
      expect(await admin.presetStatus(presetId)).toMatchObject({ status: 'hard_limited' });
      await resume(presetId);
      expect(await admin.presetStatus(presetId)).toMatchObject({ status: 'healthy' });
      const cycle = await admin.reconcile({ templateId: t.id }).expect(200);
      expect(resultOf(cycle.body, presetId)).toMatchObject({ actions: [{ type: 'create', count: 1 }] });
    });

    it('is a 200 no-op for a healthy preset', async () => {
      const t = await createTemplate(host, [{ name: 'fine', prebuilds: { instances: 1 } }]);
      const before = await dbFingerprint(host.dataSource);
      expect((await resume(t.presetIds.fine)).body).toEqual({
        presetId: t.presetIds.fine,
        status: 'healthy',
      });
      expect(await dbFingerprint(host.dataSource)).toEqual(before);
    });
  });

  it("invalidate: the active version's running prebuilds show expired, and the next cycle replaces them", async () => {
    const t = await createTemplate(host, [{ name: 'inv', prebuilds: { instances: 2 } }]);
    const other = await createTemplate(host, [{ name: 'untouched', prebuilds: { instances: 1 } }]);
    const old = await insertRunning(host, t, 'inv', { count: 2, now: clock.now() });
    const [kept] = await insertRunning(host, other, 'untouched', { count: 1, now: clock.now() });
    const list = async (presetId: string) =>
      (await host.http.get(`${API}/prebuilds/presets/${presetId}/workspaces`).set(auth()).expect(200)).body;
    expect((await list(t.presetIds.inv)).map((w: { expired: boolean }) => w.expired)).toEqual([false, false]);

    clock.advance(1000);
    const res = await host.http.post(`${API}/templates/${t.id}/prebuilds/invalidate`).set(auth()).expect(200);
    expect(res.body).toEqual({ templateId: t.id, invalidatedPresets: 1 });
    const listed = await list(t.presetIds.inv);
    expect(listed.map((w: { id: string }) => w.id).sort()).toEqual([...old].sort());
    for (const prebuild of listed) {
      expect(prebuild).toEqual({
        id: expect.any(String),
        name: expect.any(String),
        createdAt: expect.any(String),
        transition: 'start',
        jobStatus: 'succeeded',
        ready: true,
        expired: true,
      });
    }
    expect(await list(other.presetIds.untouched)).toEqual([
      expect.objectContaining({ id: kept, expired: false }),
    ]);
    expect(await admin.presetStatus(t.presetIds.inv)).toMatchObject({ actual: 2, expired: 2, eligible: 0 });

    const cycle = await admin.reconcile({ templateId: t.id }).expect(200);
    expect(resultOf(cycle.body, t.presetIds.inv)?.actions).toEqual([
      { type: 'delete', workspaceIds: expect.arrayContaining(old) },
      { type: 'create', count: 2 },
    ]);
    const states = await list(t.presetIds.inv);
    expect(states.map((w: { transition: string }) => w.transition).sort()).toEqual([
      'delete',
      'delete',
      'start',
      'start',
    ]);
  });

  it.each([
    ['GET', `/prebuilds/presets/${UNKNOWN_ID}/workspaces`, undefined, 'PRESET_NOT_FOUND'],
    ['POST', `/prebuilds/presets/${UNKNOWN_ID}/resume`, undefined, 'PRESET_NOT_FOUND'],
    ['POST', `/templates/${UNKNOWN_ID}/prebuilds/invalidate`, undefined, 'TEMPLATE_NOT_FOUND'],
    ['POST', '/prebuilds/reconcile', { templateId: UNKNOWN_ID }, 'TEMPLATE_NOT_FOUND'],
    ['GET', `/templates/${UNKNOWN_ID}`, undefined, 'TEMPLATE_NOT_FOUND'],
    ['DELETE', `/templates/${UNKNOWN_ID}`, undefined, 'TEMPLATE_NOT_FOUND'],
    ['POST', `/templates/${UNKNOWN_ID}/versions`, { version: { name: 'v2' } }, 'TEMPLATE_NOT_FOUND'],
    ['GET', `/workspaces/${UNKNOWN_ID}`, undefined, 'WORKSPACE_NOT_FOUND'],
    ['POST', '/workspaces', { templateId: UNKNOWN_ID, name: 'nowhere' }, 'TEMPLATE_NOT_FOUND'],
  ] as const)('%s %s with an unknown id → 404 %s, nothing written', async (method, path, body, code) => {
    const before = await dbFingerprint(host.dataSource);
    const request = host.http[method.toLowerCase() as 'get'](`${API}${path}`).set(auth());
    const res = await (body ? request.send(body) : request);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 404 });
    expectError(res.body, 404, code);
    expect(await dbFingerprint(host.dataSource)).toEqual(before);
  });

  it('a deleted template: invalidate answers 404, reconciling it still works and removes its prebuilds', async () => {
    const t = await createTemplate(host, [{ name: 'gone', prebuilds: { instances: 1 } }]);
    const [prebuild] = await insertRunning(host, t, 'gone', { count: 1, now: clock.now() });
    await host.http.delete(`${API}/templates/${t.id}`).set(auth()).expect(204);
    const res = await host.http.post(`${API}/templates/${t.id}/prebuilds/invalidate`).set(auth()).expect(404);
    expectError(res.body, 404, 'TEMPLATE_NOT_FOUND');
    const cycle = await admin.reconcile({ templateId: t.id }).expect(200);
    expect(resultOf(cycle.body, t.presetIds.gone)).toMatchObject({
      state: { desired: 0, actual: 1 },
      actions: [{ type: 'delete', workspaceIds: [prebuild] }],
    });
  });
});
