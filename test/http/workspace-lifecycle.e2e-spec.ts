import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { insertBuild, insertPreset, insertTemplate, insertWorkspace } from '../support/fixtures.js';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { API, bearer, dbFingerprint, expectError, UNKNOWN_ID, unique } from './http-kit.js';

/**
 * DESIGN.md, host app: "A member may own at most WORKSPACE_QUOTA live workspaces" (403 QUOTA_EXCEEDED, nothing
 * written; owners are exempt), and `POST /workspaces/:id/stop` · `DELETE /workspaces/:id` (own; owner: any; 202).
 */

/** Rows of the module's tables a create or a build writes: a refused request must leave all of them alone. */
async function moduleRows(ds: DataSource): Promise<Record<string, number>> {
  const [row] = await ds.query(
    `SELECT (SELECT count(*)::int FROM prebuilds.workspaces) AS workspaces,
            (SELECT count(*)::int FROM prebuilds.workspace_builds) AS builds,
            (SELECT count(*)::int FROM prebuilds.workspace_build_parameters) AS parameters,
            (SELECT count(*)::int FROM prebuilds.provisioner_jobs) AS jobs,
            (SELECT count(*)::int FROM prebuilds.prebuild_events) AS events`,
  );
  return row;
}

async function newMember(host: HostTestApp, roles = ['member']): Promise<{ id: string; token: string }> {
  const res = await host.http
    .post(`${API}/users`)
    .set(bearer(host.tokens.owner))
    .send({ username: unique('user'), roles })
    .expect(201);
  return { id: res.body.id, token: res.body.token };
}

describe('workspace quota (WORKSPACE_QUOTA=3)', () => {
  let db: TestDatabase;
  let host: HostTestApp;
  let templateId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url, { WORKSPACE_QUOTA: '3' });
    ({ templateId } = await insertTemplate(host.dataSource, {}));
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  const create = (token: string, name = unique('ws')) =>
    host.http.post(`${API}/workspaces`).set(bearer(token)).send({ templateId, name });

  it('10 concurrent creates by one member: exactly 3 succeed, 7 answer 403 QUOTA_EXCEEDED and write nothing', async () => {
    const member = await newMember(host);
    const before = await moduleRows(host.dataSource);

    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => create(member.token, `quota-${i}`)),
    );

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 403, 403, 403, 403, 403, 403, 403]);
    for (const res of responses.filter((r) => r.status === 403)) expectError(res.body, 403, 'QUOTA_EXCEEDED');
    const owned: { n: number }[] = await host.dataSource.query(
      `SELECT count(*)::int AS n FROM prebuilds.workspaces WHERE owner_id = $1`,
      [member.id],
    );
    expect(owned[0].n).toBe(3);
    // Exactly the three creates' rows: a workspace, a build and a job each; the refused seven left nothing.
    const after = await moduleRows(host.dataSource);
    expect(after.workspaces - before.workspaces).toBe(3);
    expect(after.builds - before.builds).toBe(3);
    expect(after.jobs - before.jobs).toBe(3);
  });

  it('a member at the quota is refused with nothing written; another member is not affected', async () => {
    const full = await newMember(host);
    for (let i = 0; i < 3; i++) await create(full.token).expect(201);
    const rows = await moduleRows(host.dataSource);
    const fingerprint = await dbFingerprint(host.dataSource);

    const refused = await create(full.token).expect(403);
    expectError(refused.body, 403, 'QUOTA_EXCEEDED');
    expect(refused.body.message).toMatch(/3/);
    expect(await moduleRows(host.dataSource)).toEqual(rows);
    expect(await dbFingerprint(host.dataSource)).toEqual(fingerprint);

    const other = await newMember(host);
    await create(other.token).expect(201);
  });

  it('counts live workspaces only: a deleted one frees its place', async () => {
    const member = await newMember(host);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create(member.token).expect(201)).body.id);
    await create(member.token).expect(403);
    // What a finished delete build leaves (the provisioner is off in this app).
    await host.dataSource.query(`UPDATE prebuilds.workspaces SET deleted = true WHERE id = $1`, [ids[0]]);
    await create(member.token).expect(201);
  });

  it('applies to template-admins too, but owners are exempt', async () => {
    const admin = await newMember(host, ['template-admin']);
    for (let i = 0; i < 3; i++) await create(admin.token).expect(201);
    expectError((await create(admin.token).expect(403)).body, 403, 'QUOTA_EXCEEDED');

    for (let i = 0; i < 5; i++) await create(host.tokens.owner).expect(201);
  });
});

describe('POST /workspaces/:id/stop and DELETE /workspaces/:id', () => {
  let db: TestDatabase;
  let host: HostTestApp;
  let templateId: string;
  let versionId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url);
    ({ templateId, versionId } = await insertTemplate(host.dataSource, {}));
    await insertPreset(host.dataSource, versionId, { desiredInstances: 0 });
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  /** A running workspace of `ownerId` whose start build succeeded. */
  async function runningWorkspace(ownerId: string): Promise<string> {
    const workspaceId = await insertWorkspace(host.dataSource, { templateId, ownerId });
    await insertBuild(host.dataSource, {
      workspaceId,
      transition: 'start',
      jobStatus: 'succeeded',
      templateVersionId: versionId,
      initiatorId: ownerId,
    });
    return workspaceId;
  }

  const latest = async (id: string) => {
    const [row] = await host.dataSource.query(
      `SELECT b.id, b.build_number AS "buildNumber", b.transition, b.initiator_id AS "initiatorId",
              j.job_status AS "jobStatus"
         FROM prebuilds.workspaces w JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id
         JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id WHERE w.id = $1`,
      [id],
    );
    return row;
  };

  it.each(['stop', 'delete'] as const)(
    '%s of my own workspace: 202 with the new, pending build',
    async (transition) => {
      const id = await runningWorkspace(host.userIds.member);
      const call =
        transition === 'stop'
          ? host.http.post(`${API}/workspaces/${id}/stop`)
          : host.http.delete(`${API}/workspaces/${id}`);
      const res = await call.set(bearer(host.tokens.member)).expect(202);

      expect(res.body).toEqual({ workspaceId: id, transition, buildId: expect.any(String), buildNumber: 2 });
      expect(await latest(id)).toEqual({
        id: res.body.buildId,
        buildNumber: 2,
        transition,
        initiatorId: host.userIds.member,
        jobStatus: 'pending',
      });
      // What the member sees afterwards.
      const view = await host.http.get(`${API}/workspaces/${id}`).set(bearer(host.tokens.member)).expect(200);
      expect(view.body.latestBuild).toMatchObject({ id: res.body.buildId, transition, jobStatus: 'pending' });
    },
  );

  it.each(['stop', 'delete'] as const)(
    "%s of someone else's workspace answers 404 like a missing one, and writes nothing",
    async (transition) => {
      const theirs = await runningWorkspace(host.userIds['template-admin']);
      const before = await moduleRows(host.dataSource);
      for (const id of [theirs, UNKNOWN_ID]) {
        const call =
          transition === 'stop'
            ? host.http.post(`${API}/workspaces/${id}/stop`)
            : host.http.delete(`${API}/workspaces/${id}`);
        const res = await call.set(bearer(host.tokens.member)).expect(404);
        expect(res.body).toEqual({
          statusCode: 404,
          code: 'WORKSPACE_NOT_FOUND',
          message: `workspace ${id} not found`,
        });
      }
      expect(await moduleRows(host.dataSource)).toEqual(before);
      expect((await latest(theirs)).buildNumber).toBe(1);
    },
  );

  it("an owner stops and deletes anyone's workspace", async () => {
    const id = await runningWorkspace(host.userIds.member);
    await host.http.post(`${API}/workspaces/${id}/stop`).set(bearer(host.tokens.owner)).expect(202);
    await host.dataSource.query(
      `UPDATE prebuilds.provisioner_jobs SET started_at = now(), completed_at = now()
        WHERE id = (SELECT b.job_id FROM prebuilds.workspaces w JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id WHERE w.id = $1)`,
      [id],
    );
    const res = await host.http.delete(`${API}/workspaces/${id}`).set(bearer(host.tokens.owner)).expect(202);
    expect(await latest(id)).toMatchObject({
      transition: 'delete',
      buildNumber: 3,
      initiatorId: host.userIds.owner,
    });
    expect(res.body.buildNumber).toBe(3);
  });

  it('a deleted workspace answers 404; a workspace whose build is still pending answers 409, nothing written', async () => {
    const gone = await insertWorkspace(host.dataSource, {
      templateId,
      ownerId: host.userIds.member,
      deleted: true,
    });
    await host.http.delete(`${API}/workspaces/${gone}`).set(bearer(host.tokens.member)).expect(404);

    const created = await host.http
      .post(`${API}/workspaces`)
      .set(bearer(host.tokens.member))
      .send({ templateId, name: unique('busy') })
      .expect(201);
    const before = await moduleRows(host.dataSource);
    const res = await host.http
      .post(`${API}/workspaces/${created.body.id}/stop`)
      .set(bearer(host.tokens.member))
      .expect(409);
    expectError(res.body, 409, 'CONFLICT');
    expect(await moduleRows(host.dataSource)).toEqual(before);
  });

  it('auditors (no workspaces:create) get 403; a malformed id is a 400', async () => {
    const id = await runningWorkspace(host.userIds.auditor);
    expectError(
      (await host.http.delete(`${API}/workspaces/${id}`).set(bearer(host.tokens.auditor)).expect(403)).body,
      403,
      'FORBIDDEN',
    );
    expectError(
      (await host.http.post(`${API}/workspaces/not-a-uuid/stop`).set(bearer(host.tokens.member)).expect(400))
        .body,
      400,
      'VALIDATION_FAILED',
    );
  });
});
