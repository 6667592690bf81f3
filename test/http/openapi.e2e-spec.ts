import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { API, ROUTE_PERMISSIONS } from './http-kit.js';

/**
 * The OpenAPI document covers every route of the permission table under the global prefix, with the permission as
 * `x-required-permission` and a bearer requirement on guarded routes, and request bodies that reference the DTOs.
 */

interface Operation {
  'x-required-permission'?: string;
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  parameters?: { name: string; in: string }[];
  responses: Record<string, unknown>;
}

interface Schema {
  properties?: Record<string, { $ref?: string; items?: { $ref?: string } }>;
  required?: string[];
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, { scheme?: string }> };
}

/** Route → the DTO its request body must reference. */
const BODIES: Record<string, string> = {
  'POST /prebuilds/reconcile': 'ReconcileDto',
  'PUT /prebuilds/settings': 'PrebuildsSettingsDto',
  'POST /users': 'CreateUserDto',
  'POST /templates': 'CreateTemplateDto',
  'POST /templates/{id}/versions': 'CreateVersionDto',
  'POST /workspaces': 'CreateWorkspaceDto',
  'PATCH /users/{id}': 'UpdateUserRolesDto',
  'POST /provisioner-keys': 'CreateProvisionerKeyDto',
};

/** Nested DTOs: schema → property → the schema it must reference (directly or as array items). */
const NESTED: [string, string, string][] = [
  ['CreateTemplateDto', 'version', 'VersionDto'],
  ['CreateVersionDto', 'version', 'VersionDto'],
  ['VersionDto', 'parameters', 'ParameterDto'],
  ['VersionDto', 'presets', 'PresetDto'],
  ['PresetDto', 'prebuilds', 'PrebuildsDto'],
  ['PrebuildsDto', 'schedules', 'ScheduleDto'],
];

const ROUTES = Object.entries(ROUTE_PERMISSIONS).map(([route, permission]) => {
  const [method, path] = route.split(' ');
  return { route, method: method.toLowerCase(), path: `${API}${path}`, permission };
});

describe('OpenAPI at /docs and /docs-json', () => {
  let db: TestDatabase;
  let host: HostTestApp;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url);
    const res = await host.http.get('/docs-json').expect(200);
    expect(res.headers['content-type']).toMatch(/json/);
    doc = res.body;
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  const schemaName = (ref: string | undefined) => ref?.replace('#/components/schemas/', '');

  it('serves the UI at /docs', async () => {
    const res = await host.http.get('/docs').redirects(1).expect(200);
    expect(res.headers['content-type']).toMatch(/html/);
    expect(res.text).toMatch(/swagger/i);
  });

  it('declares the bearer scheme', () => {
    expect(Object.values(doc.components.securitySchemes)).toContainEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
  });

  it.each(ROUTES.map((r) => [r.route, r] as const))('%s', (_route, { method, path, permission }) => {
    const operation = doc.paths[path]?.[method];
    expect(operation).toBeDefined();
    if (permission === null) {
      expect(operation['x-required-permission']).toBeUndefined();
    } else {
      expect(operation['x-required-permission']).toBe(permission);
      const schemes = Object.keys(doc.components.securitySchemes);
      expect(operation.security).toEqual(expect.arrayContaining([{ [schemes[0]]: [] }]));
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '403']));
    }
    if (path.includes('{id}'))
      expect(operation.parameters).toContainEqual(expect.objectContaining({ name: 'id', in: 'path' }));
    const dto = BODIES[_route];
    if (dto) {
      const ref = operation.requestBody?.content['application/json']?.schema.$ref;
      expect(schemaName(ref)).toBe(dto);
      expect(Object.keys(doc.components.schemas[dto].properties ?? {}).length).toBeGreaterThan(0);
    } else {
      expect(operation.requestBody).toBeUndefined();
    }
  });

  it.each(NESTED)('%s.%s references %s', (schema, property, target) => {
    const prop = doc.components.schemas[schema]?.properties?.[property];
    expect(schemaName(prop?.$ref ?? prop?.items?.$ref)).toBe(target);
    expect(doc.components.schemas[target]).toBeDefined();
  });

  it('lists every guarded route of the document in the permission table (nothing undocumented in the tests)', () => {
    const guarded = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => operation['x-required-permission'])
        .map(([method, operation]) => [
          `${method.toUpperCase()} ${path.slice(API.length)}`,
          operation['x-required-permission'],
        ]),
    );
    for (const [route, permission] of guarded)
      expect([route, ROUTE_PERMISSIONS[route as string]]).toEqual([route, permission]);
  });
});
