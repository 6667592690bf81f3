import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHostTestApp, type HostTestApp } from '../support/host-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { API, bearer, createTemplate, dbFingerprint, unique } from './http-kit.js';

/**
 * Bad input per route → 400 (VALIDATION_FAILED or BAD_REQUEST) whose message names the field, and not one row of
 * any table changed (counts and contents, prebuilds_settings included). Sent as the owner, who may call every route,
 * so that nothing but the input can be refused.
 */

const BAD_UUID = 'not-a-uuid';

/** A valid `version` with one preset, extended by `preset` (which may carry wrong types on purpose). */
const version = (preset: object) => ({
  name: 'v-bad',
  parameters: [{ name: 'region' }],
  presets: [{ name: 'p', ...preset }],
});
const template = (body: object) => ({ name: 'bad-input-template', ...body });
// > 100 kB, the JSON body limit: 413 PAYLOAD_TOO_LARGE (not a 400) is the right answer; the message names `body`.
const OVERSIZED = { padding: 'x'.repeat(200_000) };
/** Field paths as the DTO validation and the cross-field checks (planVersion) spell them. */
const DTO = 'version.presets.0.prebuilds.';
const PLAN = 'version.presets[0].prebuilds.';

/**
 * Per route (`:tpl` is replaced by a live template's id, in the path and the body): what is wrong, the body (a
 * string is sent raw as application/json), text the message must contain (the field), and the status if not 400.
 */
type Case = [what: string, body: object | string | undefined, field: string, status?: number];

const prebuilds = (p: object) => version({ prebuilds: p });
/** A preset with these schedules, in UTC. */
const crons = (...cron: unknown[]) =>
  prebuilds({
    instances: 1,
    timezone: 'UTC',
    schedules: cron.map((c, i) => ({ cron: c, instances: i + 1 })),
  });
const presets = (...list: object[]) => ({ name: 'v', presets: list });
const scheduleOf = (instances: number) =>
  prebuilds({ instances: 1, timezone: 'UTC', schedules: [{ cron: '* 9 * * *', instances }] });
const GOOD_PRESET = { name: 'ok', prebuilds: { instances: 1 } };
const BAD_TZ_PRESET = { name: 'bad', prebuilds: { instances: 1, timezone: 'Nowhere/City' } };

const ROUTES: Record<string, Case[]> = {
  'POST /prebuilds/reconcile': [
    ['templateId empty', { templateId: '' }, 'templateId'],
    ['templateId a number', { templateId: 42 }, 'templateId'],
    ['an unknown field', { force: true }, 'property force'],
    ['malformed JSON', '{"templateId":', 'body'],
    ['an oversized body', OVERSIZED, 'body', 413],
  ],
  // The flag must not flip on any of these.
  'PUT /prebuilds/settings': [
    ['a string flag', { reconciliationPaused: 'true' }, 'reconciliationPaused'],
    ['a numeric flag', { reconciliationPaused: 1 }, 'reconciliationPaused'],
    ['a null flag', { reconciliationPaused: null }, 'reconciliationPaused'],
    ['a missing flag', {}, 'reconciliationPaused'],
    ['a valid flag and an unknown field', { reconciliationPaused: true, all: true }, 'property all'],
  ],
  [`GET /prebuilds/presets/${BAD_UUID}/workspaces`]: [
    ['a malformed preset id', undefined, 'id must be a UUID'],
  ],
  [`POST /prebuilds/presets/${BAD_UUID}/resume`]: [['a malformed preset id', undefined, 'id must be a UUID']],
  [`GET /templates/${BAD_UUID}`]: [['a malformed template id', undefined, 'id must be a UUID']],
  [`DELETE /templates/${BAD_UUID}`]: [['a malformed template id', undefined, 'id must be a UUID']],
  [`POST /templates/${BAD_UUID}/versions`]: [
    ['a malformed template id', { version: version({}) }, 'id must be a UUID'],
  ],
  [`GET /workspaces/${BAD_UUID}`]: [['a malformed workspace id', undefined, 'id must be a UUID']],
  'POST /users': [
    ['a numeric username', { username: 7, roles: ['member'] }, 'username'],
    ['an unknown role', { username: 'u1', roles: ['root'] }, 'roles'],
    ['an unknown field', { username: 'u1', roles: ['member'], token: 'x' }, 'property token'],
  ],
  'POST /templates': [
    ['a numeric name', { name: 5, version: version({}) }, 'name'],
    ['no version', { name: 'x' }, 'version'],
    [
      'a malformed organizationId',
      template({ organizationId: BAD_UUID, version: version({}) }),
      'organizationId',
    ],
    ['an unknown top-level field', template({ version: version({}), owner: 'me' }), 'property owner'],
    [
      'an unknown nested field',
      template({ version: version({ colour: 'red' }) }),
      'version.presets.0.property colour',
    ],
    ['presets not a list', template({ version: { name: 'v', presets: {} } }), 'presets'],
    [
      'an unknown parameter type',
      template({ version: { name: 'v', parameters: [{ name: 'a', type: 'f' }] } }),
      'version.parameters.0.type',
    ],
    [
      'a non-string preset value',
      template({ version: version({ parameters: { region: 3 } }) }),
      'version.presets.0.parameters',
    ],
    [
      'an undeclared preset parameter',
      template({ version: version({ parameters: { zone: 'a' } }) }),
      'parameters.zone',
    ],
    [
      'duplicate preset names',
      template({ version: presets({ name: 'p' }, { name: 'p' }) }),
      'presets[1].name',
    ],
    ['instances -1', template({ version: prebuilds({ instances: -1 }) }), `${DTO}instances`],
    ['instances 100000', template({ version: prebuilds({ instances: 100_000 }) }), `${DTO}instances`],
    ['instances 1.5', template({ version: prebuilds({ instances: 1.5 }) }), `${DTO}instances`],
    ['instances "2"', template({ version: prebuilds({ instances: '2' }) }), `${DTO}instances`],
    ['ttlSeconds -5', template({ version: prebuilds({ instances: 1, ttlSeconds: -5 }) }), `${DTO}ttlSeconds`],
    ['schedule instances -1', template({ version: scheduleOf(-1) }), `${DTO}schedules.0.instances`],
    ['schedule instances 100000', template({ version: scheduleOf(100_000) }), `${DTO}schedules.0.instances`],
    ['a cron that does not parse', template({ version: crons('every day') }), `${PLAN}schedules[0].cron`],
    ['a cron with hour 25', template({ version: crons('* 25 * * *') }), `${PLAN}schedules[0].cron`],
    ['a cron whose minute is not *', template({ version: crons('0 9 * * *') }), `${PLAN}schedules[0].cron`],
    ['a cron whose month is not *', template({ version: crons('* 9 * 6 *') }), `${PLAN}schedules[0].cron`],
    ['a six-field cron', template({ version: crons('* * 9 * * *') }), `${PLAN}schedules[0].cron`],
    ['a cron that is not a string', template({ version: crons(9) }), `${DTO}schedules.0.cron`],
    [
      'an unknown time zone',
      template({ version: prebuilds({ instances: 1, timezone: 'Mars/Olympus' }) }),
      `${PLAN}timezone`,
    ],
    [
      'schedules without a time zone',
      template({ version: prebuilds({ instances: 1, schedules: [{ cron: '* 9 * * *', instances: 2 }] }) }),
      `${PLAN}timezone`,
    ],
    [
      'overlapping schedules',
      template({ version: crons('* 9-12 * * 1-5', '* 12-14 * * 5') }),
      `${PLAN}schedules[1].cron`,
    ],
    [
      'a bad preset after a good one',
      template({ version: presets(GOOD_PRESET, BAD_TZ_PRESET) }),
      'version.presets[1].prebuilds.timezone',
    ],
    ['malformed JSON', '{"name": "x", "version": {', 'body'],
    ['an oversized body', template({ version: version({}), ...OVERSIZED }), 'body', 413],
  ],
  'POST /templates/:tpl/versions': [
    ['activate "yes"', { version: version({}), activate: 'yes' }, 'activate'],
    ['no version', { activate: true }, 'version'],
    [
      'an unknown time zone',
      { version: prebuilds({ instances: 1, timezone: 'Europe/Atlantis' }), activate: true },
      `${PLAN}timezone`,
    ],
    [
      'overlapping schedules',
      { version: crons('* * * * 0', '* 3 * * *'), activate: true },
      `${PLAN}schedules[1].cron`,
    ],
    [
      'a cron that does not parse',
      { version: crons('* 9-x * * *'), activate: true },
      `${PLAN}schedules[0].cron`,
    ],
    [
      'a target expression that does not type-check',
      { version: prebuilds({ instances: 1, instancesExpression: 'claims_10m + 0.5' }), activate: true },
      `${PLAN}instancesExpression: no such overload: int + double at line 1, column 1`,
    ],
    [
      'a target expression that is not a string',
      { version: prebuilds({ instances: 1, instancesExpression: 3 }), activate: true },
      'version.presets.0.prebuilds.instancesExpression must be a string',
    ],
  ],
  'POST /workspaces': [
    ['a malformed templateId', { templateId: BAD_UUID, name: 'w' }, 'templateId'],
    ['a malformed presetId', { templateId: ':tpl', name: 'w', presetId: BAD_UUID }, 'presetId'],
    ['an empty name', { templateId: ':tpl', name: '' }, 'name'],
    ['a name with a space', { templateId: ':tpl', name: 'my ws' }, 'name'],
    ['a numeric name', { templateId: ':tpl', name: 12 }, 'name'],
    ['non-string parameters', { templateId: ':tpl', name: 'w', parameters: { region: 1 } }, 'parameters'],
    ['parameters as a list', { templateId: ':tpl', name: 'w', parameters: ['eu'] }, 'parameters'],
    ['an unknown field', { templateId: ':tpl', name: 'w', ownerId: ':tpl' }, 'property ownerId'],
    ['malformed JSON', '{"templateId"', 'body'],
  ],
};

const CASES = Object.entries(ROUTES).flatMap(([route, cases]) =>
  cases.map(([what, body, field, status]) => ({ route, what, body, field, status: status ?? 400 })),
);

describe('bad input → 400 naming the field, database unchanged', () => {
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

  const fill = <T>(value: T): T =>
    typeof value === 'string'
      ? (value.replaceAll(':tpl', templateId) as T)
      : (JSON.parse(JSON.stringify(value).replaceAll(':tpl', templateId)) as T);

  it.each(CASES.map((c) => [c.route, c.what, c] as const))('%s with %s', async (_route, _what, c) => {
    const [method, path] = c.route.split(' ') as ['GET' | 'POST' | 'PUT' | 'DELETE', string];
    const before = await dbFingerprint(host.dataSource);
    let request = host.http[method.toLowerCase() as 'get'](`${API}${fill(path)}`).set(
      bearer(host.tokens.owner),
    );
    if (typeof c.body === 'string') request = request.set('Content-Type', 'application/json');
    const res = await (c.body === undefined ? request : request.send(fill(c.body)));

    expect({ status: res.status, body: res.body }).toMatchObject({ status: c.status });
    expect(res.body).toEqual({
      statusCode: c.status,
      code:
        c.status === 413 ? 'PAYLOAD_TOO_LARGE' : expect.stringMatching(/^(VALIDATION_FAILED|BAD_REQUEST)$/),
      message: expect.stringContaining(c.field),
    });
    expect(await dbFingerprint(host.dataSource)).toEqual(before);
  });

  it('leaves reconciliation running and the live template readable after all of that', async () => {
    await host.http
      .get(`${API}/prebuilds/settings`)
      .set(bearer(host.tokens.owner))
      .expect(200, { reconciliationPaused: false });
    const res = await host.http
      .get(`${API}/templates/${templateId}`)
      .set(bearer(host.tokens.owner))
      .expect(200);
    expect(res.body.activeVersion.name).toBe('v1');
  });
});
