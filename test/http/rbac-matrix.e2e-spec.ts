import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { insertBuild, insertPreset, insertTemplate, insertWorkspace } from '../support/fixtures.js';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import {
  API,
  bearer,
  dbFingerprint,
  expectError,
  type Role,
  ROLES,
  ROUTE_PERMISSIONS,
  roleMay,
  unique,
} from './http-kit.js';

/**
 * Every route of DESIGN.md's HTTP surface and host app table × (no token, bad token, each role): 401, 403 or the
 * route's success status, derived from the route → permission and roles tables in http-kit.ts.
 * Each case builds its own ids and body, so an allowed call really succeeds; a refused call writes nothing.
 */

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Subject = 'no token' | 'bad token' | Role;

interface Call {
  method: Method;
  path: string;
  body?: object;
}

interface RouteCase {
  /** A key of ROUTE_PERMISSIONS, which gives the permission (null: open to anyone). */
  route: string;
  success: number;
  /** A fresh, valid call; `userId` is the caller's (the owner's for anonymous callers). */
  prepare(host: HostTestApp, userId: string): Promise<Call>;
}

async function templateWithPreset(host: HostTestApp, status: 'healthy' | 'hard_limited' = 'healthy') {
  const { templateId, versionId } = await insertTemplate(host.dataSource);
  const presetId = await insertPreset(host.dataSource, versionId, { desiredInstances: 1, status });
  return { templateId, versionId, presetId };
}

const VERSION = { name: 'v1', presets: [{ name: 'p', prebuilds: { instances: 1 } }] };

const ROUTES: RouteCase[] = [
  {
    route: 'POST /prebuilds/reconcile',
    success: 200,
    prepare: async () => ({ method: 'post', path: '/prebuilds/reconcile', body: {} }),
  },
  {
    route: 'GET /prebuilds/status',
    success: 200,
    prepare: async () => ({ method: 'get', path: '/prebuilds/status' }),
  },
  {
    route: 'GET /prebuilds/plan',
    success: 200,
    prepare: async () => ({ method: 'get', path: '/prebuilds/plan' }),
  },
  {
    route: 'GET /prebuilds/presets/{id}/workspaces',
    success: 200,
    prepare: async (host) => {
      const { presetId } = await templateWithPreset(host);
      return { method: 'get', path: `/prebuilds/presets/${presetId}/workspaces` };
    },
  },
  {
    route: 'GET /prebuilds/presets/{id}/history',
    success: 200,
    prepare: async (host) => {
      const { presetId } = await templateWithPreset(host);
      return { method: 'get', path: `/prebuilds/presets/${presetId}/history?window=24h` };
    },
  },
  {
    route: 'GET /prebuilds/settings',
    success: 200,
    prepare: async () => ({ method: 'get', path: '/prebuilds/settings' }),
  },
  {
    route: 'PUT /prebuilds/settings',
    success: 200,
    prepare: async () => ({
      method: 'put',
      path: '/prebuilds/settings',
      body: { reconciliationPaused: false },
    }),
  },
  {
    route: 'POST /prebuilds/presets/{id}/resume',
    success: 200,
    prepare: async (host) => {
      const { presetId } = await templateWithPreset(host, 'hard_limited');
      return { method: 'post', path: `/prebuilds/presets/${presetId}/resume` };
    },
  },
  {
    route: 'POST /templates/{id}/prebuilds/invalidate',
    success: 200,
    prepare: async (host) => {
      const { templateId } = await templateWithPreset(host);
      return { method: 'post', path: `/templates/${templateId}/prebuilds/invalidate` };
    },
  },
  {
    route: 'POST /users',
    success: 201,
    prepare: async () => ({
      method: 'post',
      path: '/users',
      body: { username: unique('user'), roles: ['member'] },
    }),
  },
  {
    route: 'POST /templates',
    success: 201,
    prepare: async () => ({
      method: 'post',
      path: '/templates',
      body: { name: unique('t'), version: VERSION },
    }),
  },
  {
    route: 'POST /templates/{id}/versions',
    success: 201,
    prepare: async (host) => {
      const { templateId } = await templateWithPreset(host);
      return {
        method: 'post',
        path: `/templates/${templateId}/versions`,
        body: { version: { ...VERSION, name: 'v2' }, activate: true },
      };
    },
  },
  {
    route: 'GET /templates/{id}',
    success: 200,
    prepare: async (host) => {
      const { templateId } = await templateWithPreset(host);
      return { method: 'get', path: `/templates/${templateId}` };
    },
  },
  {
    route: 'DELETE /templates/{id}',
    success: 204,
    prepare: async (host) => {
      const { templateId } = await templateWithPreset(host);
      return { method: 'delete', path: `/templates/${templateId}` };
    },
  },
  {
    route: 'POST /workspaces',
    success: 201,
    prepare: async (host) => {
      const { templateId } = await templateWithPreset(host);
      return { method: 'post', path: '/workspaces', body: { templateId, name: unique('ws') } };
    },
  },
  {
    route: 'GET /workspaces/{id}',
    success: 200,
    // The caller's own workspace: members may read only theirs (the 404 for others is in workspaces.e2e-spec).
    prepare: async (host, userId) => {
      const { templateId, versionId } = await templateWithPreset(host);
      const workspaceId = await insertWorkspace(host.dataSource, { templateId, ownerId: userId });
      await insertBuild(host.dataSource, {
        workspaceId,
        transition: 'start',
        jobStatus: 'succeeded',
        templateVersionId: versionId,
        initiatorId: userId,
      });
      return { method: 'get', path: `/workspaces/${workspaceId}` };
    },
  },
  ...(['stop', 'delete'] as const).map((transition): RouteCase => ({
    route: transition === 'stop' ? 'POST /workspaces/{id}/stop' : 'DELETE /workspaces/{id}',
    success: 202,
    // The caller's own, idle workspace (a finished start): members may stop and delete only theirs.
    prepare: async (host, userId) => {
      const { templateId, versionId } = await templateWithPreset(host);
      const workspaceId = await insertWorkspace(host.dataSource, { templateId, ownerId: userId });
      await insertBuild(host.dataSource, {
        workspaceId,
        transition: 'start',
        jobStatus: 'succeeded',
        templateVersionId: versionId,
        initiatorId: userId,
      });
      return transition === 'stop'
        ? { method: 'post', path: `/workspaces/${workspaceId}/stop` }
        : { method: 'delete', path: `/workspaces/${workspaceId}` };
    },
  })),
  ...(['patch', 'delete'] as const).map((method): RouteCase => ({
    route: `${method.toUpperCase()} /users/{id}`,
    success: method === 'patch' ? 200 : 204,
    // A fresh member, so that no case changes the callers themselves.
    prepare: async (host) => {
      const created = await host.http
        .post(`${API}/users`)
        .set(bearer(host.tokens.owner))
        .send({ username: unique('target'), roles: ['member'] })
        .expect(201);
      const path = `/users/${created.body.id}`;
      return method === 'patch' ? { method, path, body: { roles: ['auditor'] } } : { method, path };
    },
  })),
  {
    route: 'POST /provisioner-keys',
    success: 201,
    prepare: async () => ({ method: 'post', path: '/provisioner-keys', body: { name: unique('key') } }),
  },
  {
    route: 'GET /provisioner-keys',
    success: 200,
    prepare: async () => ({ method: 'get', path: '/provisioner-keys' }),
  },
  {
    route: 'DELETE /provisioner-keys/{id}',
    success: 200,
    prepare: async (host) => {
      const created = await host.http
        .post(`${API}/provisioner-keys`)
        .set(bearer(host.tokens.owner))
        .send({ name: unique('doomed') })
        .expect(201);
      return { method: 'delete', path: `/provisioner-keys/${created.body.id}` };
    },
  },
  ...(['/healthz', '/readyz', '/metrics'] as const).map((path): RouteCase => ({
    route: `GET ${path}`,
    success: 200,
    prepare: async () => ({ method: 'get', path }),
  })),
];

const SUBJECTS: readonly Subject[] = ['no token', 'bad token', ...ROLES];

const permissionOf = (route: RouteCase) => ROUTE_PERMISSIONS[route.route];

function expected(route: RouteCase, subject: Subject): 200 | 201 | 202 | 204 | 401 | 403 {
  const permission = permissionOf(route);
  if (permission === null) return route.success as 200;
  if (subject === 'no token' || subject === 'bad token') return 401;
  return roleMay(subject, permission) ? (route.success as 200) : 403;
}

const CASES = ROUTES.flatMap((route) =>
  SUBJECTS.map((subject) => ({ route, subject, status: expected(route, subject) })),
);

describe('RBAC matrix: every route × every kind of caller', () => {
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

  it('covers every route of the permission table × 6 callers, with every outcome present', () => {
    expect(ROUTES.map((r) => r.route).sort()).toEqual(Object.keys(ROUTE_PERMISSIONS).sort());
    expect(CASES).toHaveLength(26 * 6);
    expect(new Set(CASES.map((c) => c.status))).toEqual(new Set([200, 201, 202, 204, 401, 403]));
  });

  it.each(CASES.map((c) => [c.route.route, c.subject, c.status, c] as const))(
    '%s as %s → %d',
    async (_route, subject, status, { route }) => {
      const userId = subject in host.userIds ? host.userIds[subject as Role] : host.userIds.owner;
      const call = await route.prepare(host, userId);
      let request = host.http[call.method](`${API}${call.path}`);
      if (subject === 'bad token') request = request.set(bearer('pbt_not-a-real-token-000000'));
      else if (subject !== 'no token') request = request.set(bearer(host.tokens[subject]));
      const before = status >= 400 ? await dbFingerprint(host.dataSource) : null;

      const res = await (call.body ? request.send(call.body) : request);

      expect({ status: res.status, body: res.body }).toMatchObject({ status });
      if (status === 401) expectError(res.body, 401, 'UNAUTHENTICATED');
      if (status === 403) {
        expectError(res.body, 403, 'FORBIDDEN');
        expect(res.body.message).toContain(permissionOf(route));
      }
      if (before) expect(await dbFingerprint(host.dataSource)).toEqual(before);
    },
  );
});
