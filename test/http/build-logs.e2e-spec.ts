import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { API, bearer, dbFingerprint, expectError, UNKNOWN_ID, unique } from './http-kit.js';
import { createKey, createTaggedTemplate, daemon, eventually } from '../provisioner/provisioner-http-kit.js';

/**
 * Issue 16, build logs: appended by the daemon holding the job, kept per build under a bound, read back by the
 * workspace's owner or by `prebuilds:read` (`GET /workspaces/:id/builds/:number/logs`), and followed live as
 * server-sent events until the build ends.
 */

/** A server-sent-events reader over fetch: the events so far, and a wait for one that matches. */
function sseClient(url: string, headers: Record<string, string>) {
  const events: { event: string; id?: string; data: string }[] = [];
  let closed = false;
  const abort = new AbortController();
  const done = (async () => {
    const res = await fetch(url, { headers, signal: abort.signal });
    if (!res.ok || !res.body) throw new Error(`SSE answered ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((line) => line && !line.startsWith(':'))
            .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
        );
        if (fields.data !== undefined)
          events.push({ event: fields.event ?? 'message', id: fields.id, data: fields.data });
      }
    }
    closed = true;
  })().catch((error: Error) => {
    closed = true;
    if (error.name !== 'AbortError') throw error;
  });
  return {
    events,
    isClosed: () => closed,
    close: () => abort.abort(),
    done,
  };
}

describe('build logs', () => {
  let db: TestDatabase;
  let host: HostTestApp;
  let server: Server;
  let base: string;
  let member: { id: string; token: string };
  let otherMember: { id: string; token: string };

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url, { BUILD_LOG_MAX_LINES: '6', BUILD_LOG_MAX_BYTES: '4096' });
    server = host.app.getHttpServer() as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const newMember = async () => {
      const res = await host.http
        .post(`${API}/users`)
        .set(bearer(host.tokens.owner))
        .send({ username: unique('m'), roles: ['member'] })
        .expect(201);
      return { id: res.body.id as string, token: res.body.token as string };
    };
    member = await newMember();
    otherMember = await newMember();
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  /** A member's workspace whose first build a daemon of its own holds. */
  async function runningBuild() {
    const suite = unique('s');
    const template = await createTaggedTemplate(host, { suite });
    const d = daemon(host, (await createKey(host, { suite })).key);
    const created = await host.http
      .post(`${API}/workspaces`)
      .set(bearer(member.token))
      .send({ templateId: template.id, name: unique('ws') })
      .expect(201);
    const { jobId } = (await d.acquire('w').expect(200)).body;
    return {
      d,
      jobId,
      workspaceId: created.body.id as string,
      logs: `${API}/workspaces/${created.body.id}/builds/1/logs`,
    };
  }

  it('keeps appended lines in order and shows them to the owner and to prebuilds:read only', async () => {
    const { d, jobId, workspaceId, logs } = await runningBuild();
    const appended = await d
      .logs(jobId, 'w', [
        { stream: 'stdout', text: 'terraform init' },
        { stream: 'stderr', text: 'warning: ünïcode ✓' },
      ])
      .expect(200);
    expect(appended.body).toEqual({ accepted: 2, dropped: 0, truncated: false });
    await d.logs(jobId, 'w', [{ stream: 'stdout', text: 'apply complete' }]).expect(200);

    const read = await host.http.get(logs).set(bearer(member.token)).expect(200);
    expect(read.body).toEqual({
      workspaceId,
      buildNumber: 1,
      jobId,
      jobStatus: 'running',
      ended: false,
      truncated: false,
      lines: [
        { id: expect.any(Number), createdAt: expect.any(String), stream: 'stdout', text: 'terraform init' },
        {
          id: expect.any(Number),
          createdAt: expect.any(String),
          stream: 'stderr',
          text: 'warning: ünïcode ✓',
        },
        { id: expect.any(Number), createdAt: expect.any(String), stream: 'stdout', text: 'apply complete' },
      ],
    });
    const ids = read.body.lines.map((line: { id: number }) => line.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const after = await host.http.get(`${logs}?after=${ids[0]}`).set(bearer(member.token)).expect(200);
    expect(after.body.lines.map((line: { text: string }) => line.text)).toEqual([
      'warning: ünïcode ✓',
      'apply complete',
    ]);

    // prebuilds:read (auditor, template-admin, owner) reads anyone's; another member gets the missing workspace's 404.
    for (const role of ['auditor', 'template-admin', 'owner'] as const) {
      expect((await host.http.get(logs).set(bearer(host.tokens[role])).expect(200)).body.lines).toHaveLength(
        3,
      );
    }
    expectError(
      (await host.http.get(logs).set(bearer(otherMember.token)).expect(404)).body,
      404,
      'WORKSPACE_NOT_FOUND',
    );
    expectError((await host.http.get(logs).expect(401)).body, 401, 'UNAUTHENTICATED');
    expectError(
      (
        await host.http
          .get(`${API}/workspaces/${workspaceId}/builds/2/logs`)
          .set(bearer(member.token))
          .expect(404)
      ).body,
      404,
      'BUILD_NOT_FOUND',
    );
    expectError(
      (
        await host.http
          .get(`${API}/workspaces/${UNKNOWN_ID}/builds/1/logs`)
          .set(bearer(host.tokens.owner))
          .expect(404)
      ).body,
      404,
      'WORKSPACE_NOT_FOUND',
    );
    for (const [path, field] of [
      [`${API}/workspaces/${workspaceId}/builds/0/logs`, /number/],
      [`${API}/workspaces/${workspaceId}/builds/x/logs`, /number/],
      [`${logs}?after=-1`, /after/],
      [`${logs}?follow=yes`, /follow/],
      [`${logs}?tail=5`, /tail/],
    ] as const) {
      const res = await host.http.get(path).set(bearer(member.token)).expect(400);
      expectError(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.message).toMatch(field);
    }
  });

  it('bounds a build log: beyond the bound lines are dropped, after one marker line', async () => {
    const { d, jobId, logs } = await runningBuild();
    const lines = Array.from({ length: 8 }, (_, i) => ({ stream: 'stdout', text: `line ${i}` }));
    const first = await d.logs(jobId, 'w', lines.slice(0, 3)).expect(200);
    expect(first.body).toEqual({ accepted: 3, dropped: 0, truncated: false });
    const second = await d.logs(jobId, 'w', lines.slice(3)).expect(200);
    // 6 lines at most, the marker included: 5 kept, the rest dropped.
    expect(second.body).toEqual({ accepted: 2, dropped: 3, truncated: true });
    const third = await d.logs(jobId, 'w', [{ stream: 'stdout', text: 'more' }]).expect(200);
    expect(third.body).toEqual({ accepted: 0, dropped: 1, truncated: true });
    const read = await host.http.get(logs).set(bearer(member.token)).expect(200);
    expect(read.body.truncated).toBe(true);
    expect(read.body.lines.map((line: { text: string }) => line.text)).toEqual([
      'line 0',
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      expect.stringMatching(/^log truncated/),
    ]);
    expect(read.body.lines.at(-1).stream).toBe('system');
  });

  it('refuses lines from a worker that does not hold the job (409), and bad lines (400), writing nothing', async () => {
    const { d, jobId } = await runningBuild();
    const before = await dbFingerprint(host.dataSource);
    expectError(
      (await d.logs(jobId, 'other', [{ stream: 'stdout', text: 'x' }]).expect(409)).body,
      409,
      'LEASE_LOST',
    );
    const bad = await d
      .logs(jobId, 'w', [{ stream: 'stdout', text: 'ok' }, { stream: 'stdout' } as never])
      .expect(400);
    expect(bad.body.message).toMatch(/lines\.1\.text/);
    expect(await dbFingerprint(host.dataSource)).toEqual(before);
    await d.complete(jobId, 'w').expect(200);
    expectError(
      (await d.logs(jobId, 'w', [{ stream: 'stdout', text: 'late' }]).expect(409)).body,
      409,
      'LEASE_LOST',
    );
  });

  it('streams lines live over SSE while the build runs, then an end event, and closes', async () => {
    const { d, jobId, logs } = await runningBuild();
    await d.logs(jobId, 'w', [{ stream: 'stdout', text: 'before the stream' }]).expect(200);
    const stream = sseClient(`${base}${logs}`, {
      Accept: 'text/event-stream',
      Authorization: `Bearer ${member.token}`,
    });
    try {
      const texts = () => stream.events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data).text);
      await eventually(async () => texts().length === 1);
      expect(texts()).toEqual(['before the stream']);

      await d.logs(jobId, 'w', [{ stream: 'stderr', text: 'live 1' }]).expect(200);
      await eventually(async () => texts().includes('live 1'), 5_000);
      await d.logs(jobId, 'w', [{ stream: 'stdout', text: 'live 2' }]).expect(200);
      await eventually(async () => texts().includes('live 2'), 5_000);
      expect(stream.isClosed()).toBe(false);

      await d.complete(jobId, 'w').expect(200);
      await eventually(async () => stream.isClosed(), 5_000);
      expect(texts()).toEqual(['before the stream', 'live 1', 'live 2']);
      const end = stream.events.at(-1);
      expect(end?.event).toBe('end');
      expect(JSON.parse(end?.data ?? '{}')).toEqual({ jobStatus: 'succeeded', truncated: false });
      const ids = stream.events.filter((e) => e.event === 'log').map((e) => Number(e.id));
      expect(ids.every((id) => id > 0)).toBe(true);

      // Resuming with Last-Event-ID gives only what came after, and ends at once (the build is over).
      const resumed = sseClient(`${base}${logs}?follow=true`, {
        Authorization: `Bearer ${member.token}`,
        'Last-Event-ID': String(ids[1]),
      });
      await eventually(async () => resumed.isClosed(), 5_000);
      expect(resumed.events.map((e) => e.event)).toEqual(['log', 'end']);
      expect(JSON.parse(resumed.events[0].data).text).toBe('live 2');
    } finally {
      stream.close();
    }
  });
});
