import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_PREBUILDS_OWNER_ID as PREBUILDS_SYSTEM_USER_ID } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { insertPrebuild, insertPreset, insertTemplate } from '../support/fixtures.js';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe('POST /api/v2/workspaces and GET /api/v2/workspaces/:id', () => {
  let db: TestDatabase;
  let host: HostTestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url);
  });
  afterAll(async () => {
    await host.close();
    await db.drop();
  });

  it('64 concurrent requests over 3 eligible prebuilds: exactly 3 claims, each to its requester', async () => {
    const ds = host.dataSource;
    const { templateId, versionId } = await insertTemplate(ds, {});
    const presetId = await insertPreset(ds, versionId, { desiredInstances: 3 });
    const eligible = new Set<string>();
    for (let i = 0; i < 3; i++) eligible.add(await insertPrebuild(ds, { templateId, versionId, presetId }));
    const tokens: string[] = [];
    for (let i = 0; i < 64; i++) {
      const user = await host.http
        .post('/api/v2/users')
        .set('Authorization', `Bearer ${host.tokens.owner}`)
        .send({ username: `claimer-${i}`, roles: ['member'] })
        .expect(201);
      tokens.push(user.body.token);
    }
    const responses = await Promise.all(
      tokens.map((token, i) =>
        host.http
          .post('/api/v2/workspaces')
          .set('Authorization', `Bearer ${token}`)
          .send({ templateId, name: `race-${i}`, presetId }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(64).fill(201));
    const claimed = responses.filter((r) => r.body.claimed);
    expect(claimed).toHaveLength(3);
    expect(new Set(claimed.map((r) => r.body.id))).toEqual(eligible);
    const owners: { id: string; owner: string }[] = await ds.query(
      `SELECT id, owner_id AS owner FROM prebuilds.workspaces WHERE template_id = $1`,
      [templateId],
    );
    const ownerById = Object.fromEntries(owners.map((o) => [o.id, o.owner]));
    for (const response of responses) expect(ownerById[response.body.id]).toBe(response.body.ownerId);
    expect(owners.filter((o) => o.owner === PREBUILDS_SYSTEM_USER_ID)).toHaveLength(0);
    expect(owners).toHaveLength(64);
  });

  it('shows a workspace to its owner and to auditors, and answers 404 to another member', async () => {
    const { templateId } = await insertTemplate(host.dataSource, {});
    const created = await host.http
      .post('/api/v2/workspaces')
      .set('Authorization', `Bearer ${host.tokens.member}`)
      .send({ templateId, name: 'mine' })
      .expect(201);
    expect(created.body).toMatchObject({
      name: 'mine',
      ownerId: host.userIds.member,
      claimed: false,
      presetId: null,
    });
    const mine = await host.http
      .get(`/api/v2/workspaces/${created.body.id}`)
      .set('Authorization', `Bearer ${host.tokens.member}`)
      .expect(200);
    expect(mine.body).toMatchObject({
      id: created.body.id,
      templateId,
      latestBuild: { id: created.body.buildId, buildNumber: 1, transition: 'start', jobStatus: 'pending' },
      agents: [],
    });
    await host.http
      .get(`/api/v2/workspaces/${created.body.id}`)
      .set('Authorization', `Bearer ${host.tokens.auditor}`)
      .expect(200);
    const other = await host.http
      .post('/api/v2/users')
      .set('Authorization', `Bearer ${host.tokens.owner}`)
      .send({ username: 'another-member', roles: ['member'] })
      .expect(201);
    const hidden = await host.http
      .get(`/api/v2/workspaces/${created.body.id}`)
      .set('Authorization', `Bearer ${other.body.token}`)
      .expect(404);
    expect(hidden.body).toEqual({
      statusCode: 404,
      code: 'WORKSPACE_NOT_FOUND',
      message: expect.any(String),
    });
  });

  it('answers 409 for a name the owner already uses, 404 for an unknown template or preset, 400 naming the field', async () => {
    const { templateId, versionId } = await insertTemplate(host.dataSource, {});
    const presetId = await insertPreset(host.dataSource, versionId, { desiredInstances: 1 });
    const auth = { Authorization: `Bearer ${host.tokens.member}` };
    await host.http.post('/api/v2/workspaces').set(auth).send({ templateId, name: 'dup' }).expect(201);
    const dup = await host.http
      .post('/api/v2/workspaces')
      .set(auth)
      .send({ templateId, name: 'dup', presetId })
      .expect(409);
    expect(dup.body.code).toBe('NAME_TAKEN');
    const unknownTemplate = await host.http
      .post('/api/v2/workspaces')
      .set(auth)
      .send({ templateId: '00000000-0000-4000-8000-0000000000aa', name: 'x' })
      .expect(404);
    expect(unknownTemplate.body.code).toBe('TEMPLATE_NOT_FOUND');
    const unknownPreset = await host.http
      .post('/api/v2/workspaces')
      .set(auth)
      .send({ templateId, name: 'y', presetId: '00000000-0000-4000-8000-0000000000bb' })
      .expect(404);
    expect(unknownPreset.body.code).toBe('PRESET_NOT_FOUND');
    for (const [body, field] of [
      [{ templateId: 'nope', name: 'z' }, 'templateId'],
      [{ templateId, name: '' }, 'name'],
      [{ templateId, name: 'z', parameters: { cpu: 8 } }, 'parameters'],
      [{ templateId, name: 'z', extra: true }, 'extra'],
    ] as const) {
      const bad = await host.http.post('/api/v2/workspaces').set(auth).send(body).expect(400);
      expect(bad.body.message).toContain(field);
    }
  });
});
