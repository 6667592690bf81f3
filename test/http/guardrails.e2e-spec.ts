import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { API, bearer, createTemplate, dbFingerprint, unique } from './http-kit.js';

/**
 * Issue 13 through HTTP: an `instances` above the per-preset cap, a NUL in any string, JSON nested too deep and the
 * reserved keys `__proto__` / `constructor` / `prototype` are a 400 naming the field with not one row changed; a
 * parameter named after an Object.prototype member is read by own property only.
 */

/** Both schemas: dbFingerprint covers the host's tables and the module's. */
const fingerprint = dbFingerprint;

const NUL = '\u0000';
/** `{"a":{"a":…1…}}` nested `depth` levels, as raw JSON. */
const deep = (depth: number, leaf = '1') => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

const versionWith = (preset: object, parameters: object[] = [{ name: 'region' }]) => ({
  name: 'v1',
  parameters,
  presets: [{ name: 'p', ...preset }],
});

describe('guardrails: caps, NUL, depth, reserved keys, own-property parameters', () => {
  let db: TestDatabase;
  let host: HostTestApp;
  let templateId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    host = await createHostTestApp(db.url);
    templateId = (
      await createTemplate(host, [{ name: 'default', prebuilds: { instances: 1 } }], unique('live'))
    ).id;
  });
  afterAll(async () => {
    await host?.close();
    await db?.drop();
  });

  /** Sends as the owner (raw JSON when `body` is a string); expects a 400 naming `field` and no row changed. */
  async function refused(
    method: 'post' | 'put',
    path: string,
    body: object | string,
    field: string,
    code: RegExp = /^(VALIDATION_FAILED|BAD_REQUEST|INVALID_PARAMETERS)$/,
  ) {
    const before = await fingerprint(host.dataSource);
    let request = host.http[method](`${API}${path}`).set(bearer(host.tokens.owner));
    if (typeof body === 'string') request = request.set('Content-Type', 'application/json');
    const res = await request.send(body);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: { statusCode: 400, code: expect.stringMatching(code), message: expect.stringContaining(field) },
    });
    expect(await fingerprint(host.dataSource)).toEqual(before);
    return res.body.message as string;
  }

  it('refuses the 1,000 presets × 1,000 instances template naming the field, and plans nothing for it', async () => {
    const presets = Array.from({ length: 1000 }, (_, i) => ({
      name: `p${i}`,
      prebuilds: { instances: 1000 },
    }));
    const message = await refused(
      'post',
      '/templates',
      { name: unique('flood'), version: { name: 'v1', presets } },
      'version.presets[0].prebuilds.instances',
    );
    expect(message).toContain('maxInstancesPerPreset');
    const plan = await host.http.get(`${API}/prebuilds/plan`).set(bearer(host.tokens.owner)).expect(200);
    const creates = plan.body.presets.flatMap((p: { actions: { type: string; count?: number }[] }) =>
      p.actions.filter((a) => a.type === 'create').map((a) => a.count as number),
    );
    expect(creates.reduce((a: number, b: number) => a + b, 0)).toBeLessThanOrEqual(1);
  });

  it.each([
    ['preset instances 101', { prebuilds: { instances: 101 } }, 'version.presets[0].prebuilds.instances'],
    [
      'schedule instances 101',
      { prebuilds: { instances: 1, timezone: 'UTC', schedules: [{ cron: '* 9 * * *', instances: 101 }] } },
      'version.presets[0].prebuilds.schedules[0].instances',
    ],
  ])('refuses %s (above the default per-preset cap of 100)', async (_what, preset, field) => {
    await refused('post', '/templates', { name: unique('cap'), version: versionWith(preset) }, field);
    await refused('post', `/templates/${templateId}/versions`, { version: versionWith(preset) }, field);
  });

  it('accepts exactly the cap', async () => {
    await host.http
      .post(`${API}/templates`)
      .set(bearer(host.tokens.owner))
      .send({ name: unique('at-cap'), version: versionWith({ prebuilds: { instances: 100 } }) })
      .expect(201);
  });

  describe('a NUL in a string field', () => {
    it.each([
      ['the template name', { name: `bad${NUL}`, version: versionWith({}) }, 'name'],
      [
        'the version name',
        { name: unique('n'), version: { ...versionWith({}), name: `v${NUL}` } },
        'version.name',
      ],
      [
        'a parameter name',
        { name: unique('n'), version: versionWith({}, [{ name: `re${NUL}gion` }]) },
        'version.parameters[0].name',
      ],
      [
        'a parameter default',
        { name: unique('n'), version: versionWith({}, [{ name: 'region', default: `e${NUL}u` }]) },
        'version.parameters[0].default',
      ],
      [
        'a preset name',
        { name: unique('n'), version: { name: 'v1', presets: [{ name: `p${NUL}` }] } },
        'version.presets[0].name',
      ],
      [
        'a preset parameter value',
        { name: unique('n'), version: versionWith({ parameters: { region: `e${NUL}u` } }) },
        'version.presets[0].parameters.region',
      ],
      [
        'a cron',
        {
          name: unique('n'),
          version: versionWith({
            prebuilds: {
              instances: 1,
              timezone: 'UTC',
              schedules: [{ cron: `* 9 * * *${NUL}`, instances: 1 }],
            },
          }),
        },
        'version.presets[0].prebuilds.schedules[0].cron',
      ],
      [
        'a timezone',
        { name: unique('n'), version: versionWith({ prebuilds: { instances: 1, timezone: `UTC${NUL}` } }) },
        'version.presets[0].prebuilds.timezone',
      ],
    ])('POST /templates: %s', async (_what, body, field) => {
      await refused('post', '/templates', body, field);
    });

    it('POST /prebuilds/reconcile: the templateId', async () => {
      await refused('post', '/prebuilds/reconcile', { templateId: `${templateId}${NUL}` }, 'templateId');
    });

    it.each([
      ['the workspace name', () => ({ templateId, name: `w${NUL}` }), 'name'],
      [
        'a parameter value',
        () => ({ templateId, name: 'w', parameters: { region: `e${NUL}u` } }),
        'parameters.region',
      ],
    ])('POST /workspaces: %s', async (_what, body, field) => {
      await refused('post', '/workspaces', body(), field);
    });
  });

  describe('JSON nested 5,000 levels deep (a 400, not a stack overflow)', () => {
    it.each([
      [
        'POST /templates',
        '/templates',
        () => `{"name":"deep","version":{"name":"v","presets":${deep(5000)}}}`,
      ],
      ['POST /templates/:id/versions', `/templates/:tpl/versions`, () => `{"version":${deep(5000)}}`],
      ['POST /prebuilds/reconcile', '/prebuilds/reconcile', () => `{"templateId":${deep(5000)}}`],
      [
        'POST /workspaces',
        '/workspaces',
        () => `{"templateId":"${templateId}","name":"w","parameters":${deep(5000)}}`,
      ],
    ])('%s', async (_route, path, body) => {
      const message = await refused(
        'post',
        path.replace(':tpl', templateId),
        body(),
        'nested deeper than 32',
      );
      expect(message.length).toBeLessThan(1000);
    });
  });

  describe('reserved keys in a parameters object (JSON.parse makes `__proto__` an own key)', () => {
    it.each(['__proto__', 'constructor', 'prototype'])(
      'POST /templates preset parameters: %s',
      async (key) => {
        const raw = `{"name":"${unique('r')}","version":{"name":"v1","parameters":[{"name":"region"}],"presets":[{"name":"p","parameters":{"${key}":"eu"}}]}}`;
        await refused('post', '/templates', raw, key);
      },
    );

    it.each(['__proto__', 'constructor', 'prototype'])('POST /workspaces parameters: %s', async (key) => {
      await refused(
        'post',
        '/workspaces',
        `{"templateId":"${templateId}","name":"w","parameters":{"${key}":"eu"}}`,
        key,
      );
    });

    it.each(['__proto__', 'constructor', 'prototype'])('a parameter definition named %s', async (key) => {
      await refused(
        'post',
        '/templates',
        { name: unique('r'), version: { name: 'v1', parameters: [{ name: key }] } },
        'version.parameters[0].name',
      );
    });
  });

  describe('parameters named after Object.prototype members are read by own property', () => {
    it('a required `toString` not given is reported missing (nothing written), and works when given', async () => {
      const created = await host.http
        .post(`${API}/templates`)
        .set(bearer(host.tokens.owner))
        .send({
          name: unique('tostring'),
          version: { name: 'v1', parameters: [{ name: 'toString', required: true }] },
        })
        .expect(201);
      const message = await refused(
        'post',
        '/workspaces',
        { templateId: created.body.id, name: 'w1' },
        "required parameter 'toString' is missing",
        /^INVALID_PARAMETERS$/,
      );
      expect(message).toContain('parameters');
      const ok = await host.http
        .post(`${API}/workspaces`)
        .set(bearer(host.tokens.owner))
        .send({ templateId: created.body.id, name: 'w2', parameters: { toString: 'x' } })
        .expect(201);
      const [row] = await host.dataSource.query(
        `SELECT value FROM prebuilds.workspace_build_parameters WHERE build_id = $1 AND name = 'toString'`,
        [ok.body.buildId],
      );
      expect(row).toEqual({ value: 'x' });
    });

    it('an optional number `valueOf` not given is no 500; a bad one is a 400 naming it', async () => {
      const created = await host.http
        .post(`${API}/templates`)
        .set(bearer(host.tokens.owner))
        .send({
          name: unique('valueof'),
          version: { name: 'v1', parameters: [{ name: 'valueOf', type: 'number' }] },
        })
        .expect(201);
      const ok = await host.http
        .post(`${API}/workspaces`)
        .set(bearer(host.tokens.owner))
        .send({ templateId: created.body.id, name: 'v1' })
        .expect(201);
      const rows = await host.dataSource.query(
        `SELECT name FROM prebuilds.workspace_build_parameters WHERE build_id = $1`,
        [ok.body.buildId],
      );
      expect(rows).toEqual([]);
      await refused(
        'post',
        '/workspaces',
        { templateId: created.body.id, name: 'v2', parameters: { valueOf: 'abc' } },
        "parameter 'valueOf' must be a number",
        /^INVALID_PARAMETERS$/,
      );
    });
  });
});
