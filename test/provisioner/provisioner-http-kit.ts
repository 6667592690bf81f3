import { expect } from '@jest/globals';
import type { HostTestApp } from '../support/host-app.js';
import { API, bearer, unique } from '../http/http-kit.js';

/** Shared pieces of the external provisioner specs: keys, templates with provisioner tags, a daemon's calls. */

export const KEY_HEADER = 'Prebuilds-Provisioner-Key';

/** Polls `probe` until it returns a value (not undefined/false); fails naming the deadline. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  deadlineMs = 10_000,
): Promise<T> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`condition not met within ${deadlineMs} ms`);
}

/** POST /provisioner-keys as the owner: `{ id, key }`. */
export async function createKey(
  host: HostTestApp,
  tags: Record<string, string> = {},
): Promise<{ id: string; key: string }> {
  const res = await host.http
    .post(`${API}/provisioner-keys`)
    .set(bearer(host.tokens.owner))
    .send({ name: unique('key'), tags })
    .expect(201);
  return { id: res.body.id, key: res.body.key };
}

/** A template whose jobs carry `provisionerTags`, with one preset wanting `instances` prebuilds. */
export async function createTaggedTemplate(
  host: HostTestApp,
  provisionerTags: Record<string, string>,
  instances = 0,
): Promise<{ id: string; presetId: string }> {
  const res = await host.http
    .post(`${API}/templates`)
    .set(bearer(host.tokens.owner))
    .send({
      name: unique('tpl'),
      provisionerTags,
      version: {
        name: 'v1',
        parameters: [{ name: 'region', default: 'eu' }],
        presets: [{ name: 'p', ...(instances > 0 ? { prebuilds: { instances } } : {}) }],
      },
    })
    .expect(201);
  return { id: res.body.id, presetId: res.body.activeVersion.presets[0].id };
}

/** A user's workspace on the template (a user job: its build's initiator is the owner, not the prebuilds user). */
export async function createUserWorkspace(host: HostTestApp, templateId: string): Promise<string> {
  const res = await host.http
    .post(`${API}/workspaces`)
    .set(bearer(host.tokens.owner))
    .send({ templateId, name: unique('ws') })
    .expect(201);
  expect(res.body.claimed).toBe(false);
  return res.body.id;
}

/** Runs a cycle for the template now: its presets' prebuild jobs are written. */
export async function reconcile(host: HostTestApp, templateId: string): Promise<void> {
  await host.http
    .post(`${API}/prebuilds/reconcile`)
    .set(bearer(host.tokens.owner))
    .send({ templateId })
    .expect(200);
}

/** The calls a daemon makes with its key, answering supertest responses. */
export function daemon(host: HostTestApp, key: string) {
  const post = (path: string, body: object) =>
    host.http.post(`${API}/provisioner${path}`).set(KEY_HEADER, key).send(body);
  return {
    /** Any body, as given. */
    post,
    acquire: (workerId: string, waitMs = 0) => post('/jobs/acquire', { workerId, waitMs }),
    heartbeat: (jobId: string, workerId: string) => post(`/jobs/${jobId}/heartbeat`, { workerId }),
    logs: (jobId: string, workerId: string, lines: { stream: string; text: string }[]) =>
      post(`/jobs/${jobId}/logs`, { workerId, lines }),
    complete: (jobId: string, workerId: string, outcome: object = { status: 'succeeded' }) =>
      post(`/jobs/${jobId}/complete`, { workerId, outcome }),
    lifecycle: (agentId: string, state: string) => post(`/agents/${agentId}/lifecycle`, { state }),
  };
}
