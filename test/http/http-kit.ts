import { randomBytes } from 'node:crypto';
import { expect } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { insertPrebuild } from '../support/fixtures.js';
import { settleBatchedWrites, type HostTestApp } from '../support/host-app.js';

/**
 * Shared pieces of the HTTP specs in this folder: the roles table written out (not imported from src, so that the
 * specs check src), the error shape, a whole-database fingerprint, and template creation through the API.
 */

export const API = '/api/v2';

export type Role = 'owner' | 'template-admin' | 'auditor' | 'member';
export const ROLES: readonly Role[] = ['owner', 'template-admin', 'auditor', 'member'];

/** DESIGN.md, host app, roles table. `owner` is everything. */
export const ROLE_TABLE: Record<Role, readonly string[] | 'everything'> = {
  owner: 'everything',
  'template-admin': [
    'templates:read',
    'templates:update',
    'prebuilds:read',
    'prebuilds:reconcile',
    'workspaces:create',
    'workspaces:read',
  ],
  auditor: ['templates:read', 'prebuilds:read', 'workspaces:read'],
  member: ['templates:read', 'workspaces:create', 'workspaces:read'],
};

export function roleMay(role: Role, permission: string): boolean {
  const granted = ROLE_TABLE[role];
  return granted === 'everything' || granted.includes(permission);
}

/**
 * DESIGN.md's HTTP surface and host app routes → the permission each requires (null: open). Paths as OpenAPI
 * spells them, under the global prefix.
 */
export const ROUTE_PERMISSIONS: Record<string, string | null> = {
  'POST /prebuilds/reconcile': 'prebuilds:reconcile',
  'GET /prebuilds/status': 'prebuilds:read',
  'GET /prebuilds/plan': 'prebuilds:read',
  'GET /prebuilds/presets/{id}/workspaces': 'prebuilds:read',
  'GET /prebuilds/presets/{id}/history': 'prebuilds:read',
  'GET /prebuilds/settings': 'prebuilds:read',
  'PUT /prebuilds/settings': 'prebuilds:admin',
  'POST /prebuilds/presets/{id}/resume': 'prebuilds:admin',
  'POST /templates/{id}/prebuilds/invalidate': 'templates:update',
  'POST /users': 'users:create',
  'POST /templates': 'templates:update',
  'POST /templates/{id}/versions': 'templates:update',
  'GET /templates/{id}': 'templates:read',
  'DELETE /templates/{id}': 'templates:update',
  'POST /workspaces': 'workspaces:create',
  'GET /workspaces/{id}': 'workspaces:read',
  'POST /workspaces/{id}/stop': 'workspaces:create',
  'DELETE /workspaces/{id}': 'workspaces:create',
  'PATCH /users/{id}': 'users:create',
  'DELETE /users/{id}': 'users:create',
  'POST /provisioner-keys': 'provisioners:admin',
  'GET /provisioner-keys': 'provisioners:admin',
  'DELETE /provisioner-keys/{id}': 'provisioners:admin',
  'GET /healthz': null,
  'GET /readyz': null,
  'GET /metrics': null,
};

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** DESIGN.md, errors: exactly `{ statusCode, code, message }`. */
export function expectError(body: unknown, statusCode: number, code: string): void {
  expect(body).toEqual({ statusCode, code, message: expect.any(String) });
}

export const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** A UUID that names nothing. */
export const UNKNOWN_ID = '5a0c6bd4-0d3e-4a43-9f0a-7d2f1f9a6e11';

/**
 * Columns that change on a mere read and so are left out of the fingerprint: a token's last use is recorded when an
 * authenticated request is seen (at most once a minute), whether the request is then refused or not.
 */
const BOOKKEEPING_COLUMNS: Record<string, string[]> = { api_tokens: ['last_used_at'] };

/**
 * Row count and content digest of every table of the host's schema and of the module's (prebuilds_settings' values
 * included), so that `expect(after).toEqual(before)` names the table that changed, whether a row was added, removed
 * or updated. Module tables are keyed `prebuilds.<table>`, host tables by their name.
 */
export async function dbFingerprint(ds: DataSource): Promise<Record<string, string>> {
  await settleBatchedWrites(ds);
  const tables: { schema: string; name: string }[] = await ds.query(
    `SELECT schemaname AS schema, tablename AS name FROM pg_tables
      WHERE schemaname IN ('public', 'prebuilds') ORDER BY schemaname, tablename`,
  );
  const rows: { key: string; n: number; digest: string }[] = await ds.query(
    tables
      .map(({ schema, name }) => {
        const key = schema === 'public' ? name : `${schema}.${name}`;
        const bookkeeping = schema === 'public' ? BOOKKEEPING_COLUMNS[name] : undefined;
        const source = bookkeeping
          ? `(SELECT to_jsonb(r) - ARRAY[${bookkeeping.map((c) => `'${c}'`).join(',')}] AS j FROM "${name}" r)`
          : `"${schema}"."${name}"`;
        return `SELECT '${key}' AS key, count(*)::int AS n,
                       md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM ${source} t`;
      })
      .join(' UNION ALL '),
  );
  return Object.fromEntries(rows.map((row) => [row.key, `${row.n} rows, ${row.digest}`]));
}

export interface PresetBody {
  name: string;
  parameters?: Record<string, string>;
  prebuilds?: {
    instances: number;
    ttlSeconds?: number;
    timezone?: string;
    schedules?: { cron: string; instances: number }[];
  };
}

export interface CreatedTemplate {
  id: string;
  name: string;
  organizationId: string;
  activeVersion: { id: string; name: string; presets: { id: string; name: string }[] };
  /** preset name → id */
  presetIds: Record<string, string>;
}

/** POST /templates as the owner; the created template with its preset ids by name. */
export async function createTemplate(
  host: HostTestApp,
  presets: PresetBody[] = [{ name: 'default', prebuilds: { instances: 1 } }],
  name = unique('tpl'),
): Promise<CreatedTemplate> {
  const res = await host.http
    .post(`${API}/templates`)
    .set(bearer(host.tokens.owner))
    .send({ name, version: { name: 'v1', parameters: [{ name: 'region', default: 'eu' }], presets } })
    .expect(201);
  const body = res.body as Omit<CreatedTemplate, 'presetIds'>;
  const presetIds = Object.fromEntries(body.activeVersion.presets.map((p) => [p.name, p.id]));
  return { ...body, presetIds };
}

interface PresetResult {
  presetId: string;
  actions: object[];
}

/** The admin routes as the owner, with the result of one preset picked out. */
/** The owner's calls to the prebuilds admin routes. */
export type AdminClient = ReturnType<typeof adminClient>;

export function adminClient(host: HostTestApp) {
  const auth = () => bearer(host.tokens.owner);
  return {
    reconcile: (body: object = {}) => host.http.post(`${API}/prebuilds/reconcile`).set(auth()).send(body),
    status: async () => (await host.http.get(`${API}/prebuilds/status`).set(auth()).expect(200)).body,
    async presetStatus(presetId: string) {
      const body = await this.status();
      return body.presets.find((p: { presetId: string }) => p.presetId === presetId);
    },
    plan: async () => (await host.http.get(`${API}/prebuilds/plan`).set(auth()).expect(200)).body,
  };
}

export function resultOf(body: { presets: PresetResult[] }, presetId: string): PresetResult | undefined {
  return body.presets.find((p) => p.presetId === presetId);
}

/** `count` running, ready prebuilds of a template's preset, created `ageMs` (and a second more each) before `now`. */
export async function insertRunning(
  host: HostTestApp,
  t: CreatedTemplate,
  preset: string,
  options: { count: number; now: Date; ageMs?: number; jobStatus?: 'succeeded' | 'failed' },
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const createdAt = new Date(options.now.getTime() - (options.ageMs ?? 3_600_000) - i * 1000);
    ids.push(
      await insertPrebuild(host.dataSource, {
        templateId: t.id,
        versionId: t.activeVersion.id,
        presetId: t.presetIds[preset],
        jobStatus: options.jobStatus ?? 'succeeded',
        createdAt,
      }),
    );
  }
  return ids;
}
