import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { BadRequestException, Logger, ValidationPipe } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DemoSeedService } from '../../src/host/seed/demo-seed.service.js';
import { CreateTemplateDto } from '../../src/host/templates/dto/create-template.dto.js';
import { CreateVersionDto } from '../../src/host/templates/dto/create-version.dto.js';
import { TemplatesService } from '../../src/host/templates/templates.service.js';
import type { RegisterTemplateInput, VersionInput } from '../../src/prebuilds/catalog/catalog.types.js';
import { TemplateCatalogService } from '../../src/prebuilds/catalog/template-catalog.service.js';
import { CatalogRepository } from '../../src/prebuilds/database/catalog.repository.js';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';
import { PresetRepository } from '../../src/prebuilds/database/preset.repository.js';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { DEFAULT_ORGANIZATION_ID } from '../../src/host/templates/organizations.js';
import { PrebuildsChannel } from '../../src/prebuilds/pubsub/channels.js';
import { FakeClock } from '../support/fake-clock.js';
import { RecordingPubsub } from '../support/recording-pubsub.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const TABLES = [
  'templates',
  'template_versions',
  'template_version_parameters',
  'template_version_presets',
  'template_version_preset_parameters',
  'prebuild_schedules',
];

async function rowCounts(ds: DataSource): Promise<Record<string, number>> {
  const [row] = await ds.query(
    `SELECT ${TABLES.map((t) => `(SELECT count(*)::int FROM prebuilds.${t}) AS ${t}`).join(', ')}`,
  );
  return row;
}

let uniqueCounter = 0;
const uniqueName = (prefix: string) => `${prefix}-${++uniqueCounter}`;

/** A version that uses every feature: typed parameters, presets with and without prebuilds, schedules. */
function fullVersion(name = 'v1'): VersionInput {
  return {
    name,
    parameters: [
      { name: 'region', type: 'string', required: true },
      { name: 'cpu', type: 'number', default: '2' },
      { name: 'gpu', type: 'bool' },
    ],
    presets: [
      { name: 'small', parameters: { region: 'eu', cpu: '2' }, prebuilds: { instances: 2 } },
      {
        name: 'office',
        parameters: { region: 'us', gpu: 'true' },
        prebuilds: {
          instances: 1,
          ttlSeconds: 3600,
          timezone: 'America/New_York',
          schedules: [
            { cron: '* 9-17 * * 1-5', instances: 4 },
            { cron: '* 18-20 * * 1-5', instances: 2 },
          ],
        },
      },
      { name: 'manual', parameters: { region: 'ap' } },
    ],
  };
}

describe('TemplatesService', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let pubsub: RecordingPubsub;
  let clock: FakeClock;
  let service: TemplatesService;
  let catalog: TemplateCatalogService;
  const ns = new PrebuildsNamespace();
  const catalogOf = (publisher: RecordingPubsub) =>
    new TemplateCatalogService(new CatalogRepository(ds, ns), new PresetRepository(ds, ns), publisher, clock);

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase();
    ds = await new DataSource(testDataSourceOptions(db.url, { poolSize: 8 })).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });
  beforeEach(() => {
    pubsub = new RecordingPubsub();
    clock = new FakeClock('2026-06-01T12:00:00Z');
    catalog = catalogOf(pubsub);
    service = new TemplatesService(catalog);
  });

  it('creates a template with its active version, presets and schedules, announces it, and reads it back', async () => {
    const name = uniqueName('full');
    const created = await service.createTemplate({ name, version: fullVersion() });
    expect(created).toEqual({
      id: expect.any(String),
      name,
      organizationId: DEFAULT_ORGANIZATION_ID,
      activeVersion: {
        id: expect.any(String),
        name: 'v1',
        presets: [
          { id: expect.any(String), name: 'small' },
          { id: expect.any(String), name: 'office' },
          { id: expect.any(String), name: 'manual' },
        ],
      },
    });
    expect(pubsub.published).toEqual([
      { channel: PrebuildsChannel.TemplateChanged, payload: { templateId: created.id } },
    ]);

    const view = await service.getTemplate(created.id);
    const presetId = (presetName: string) =>
      created.activeVersion.presets.find((p) => p.name === presetName)?.id;
    expect(view).toEqual({
      id: created.id,
      name,
      organizationId: DEFAULT_ORGANIZATION_ID,
      deprecated: '',
      createdAt: '2026-06-01T12:00:00.000Z',
      updatedAt: '2026-06-01T12:00:00.000Z',
      activeVersion: {
        id: created.activeVersion.id,
        name: 'v1',
        createdAt: '2026-06-01T12:00:00.000Z',
        parameters: [
          { name: 'region', type: 'string', required: true, default: null },
          { name: 'cpu', type: 'number', required: false, default: '2' },
          { name: 'gpu', type: 'bool', required: false, default: null },
        ],
        // Presets carry no ordinal; they come back by name.
        presets: [
          {
            id: presetId('manual'),
            name: 'manual',
            parameters: { region: 'ap' },
            prebuilds: null,
            prebuildStatus: 'healthy',
            lastInvalidatedAt: null,
          },
          {
            id: presetId('office'),
            name: 'office',
            parameters: { gpu: 'true', region: 'us' },
            prebuilds: {
              instances: 1,
              ttlSeconds: 3600,
              timezone: 'America/New_York',
              schedules: [
                { cron: '* 9-17 * * 1-5', instances: 4 },
                { cron: '* 18-20 * * 1-5', instances: 2 },
              ],
              instancesExpression: null,
            },
            prebuildStatus: 'healthy',
            lastInvalidatedAt: null,
          },
          {
            id: presetId('small'),
            name: 'small',
            parameters: { cpu: '2', region: 'eu' },
            prebuilds: {
              instances: 2,
              ttlSeconds: null,
              timezone: null,
              schedules: [],
              instancesExpression: null,
            },
            prebuildStatus: 'healthy',
            lastInvalidatedAt: null,
          },
        ],
      },
    });
    // The snapshot reads these columns directly: no prebuilds is NULL, no time zone is ''.
    expect(
      await ds.query(
        `SELECT name, desired_instances, scheduling_timezone FROM prebuilds.template_version_presets
          WHERE template_version_id = $1 ORDER BY name`,
        [created.activeVersion.id],
      ),
    ).toEqual([
      { name: 'manual', desired_instances: null, scheduling_timezone: '' },
      { name: 'office', desired_instances: 1, scheduling_timezone: 'America/New_York' },
      { name: 'small', desired_instances: 2, scheduling_timezone: '' },
    ]);
  });

  it('refuses a duplicate name (case-insensitively) with a conflict and writes nothing', async () => {
    const name = uniqueName('dup');
    await service.createTemplate({ name, version: fullVersion() });
    const before = await rowCounts(ds);
    await expect(
      service.createTemplate({ name: name.toUpperCase(), version: fullVersion() }),
    ).rejects.toMatchObject({ code: 'NAME_TAKEN' });
    expect(await rowCounts(ds)).toEqual(before);
    expect(pubsub.published).toHaveLength(1);
  });

  const withPreset = (
    preset: NonNullable<VersionInput['presets']>[number],
    parameters: VersionInput['parameters'] = [],
  ) => ({
    name: 'v1',
    parameters,
    presets: [preset],
  });
  /** A preset with schedules; `timezone: null` leaves the time zone out. */
  const office = (
    schedules: { cron: string; instances: number }[],
    timezone: string | null = 'Europe/Berlin',
  ) =>
    withPreset({
      name: 'office',
      prebuilds: { instances: 1, ...(timezone === null ? {} : { timezone }), schedules },
    });

  const demand = (instancesExpression: string) =>
    withPreset({ name: 'demand', prebuilds: { instances: 1, instancesExpression } });

  it('stores a target expression and reads it back with the preset', async () => {
    const created = await service.createTemplate({
      name: uniqueName('demand'),
      version: demand('max(scheduled_target, claims_10m + 2)'),
    });
    const view = await service.getTemplate(created.id);
    expect(view.activeVersion?.presets[0].prebuilds).toMatchObject({
      instances: 1,
      instancesExpression: 'max(scheduled_target, claims_10m + 2)',
    });
  });

  const badInputs: { case: string; input: Partial<RegisterTemplateInput>; field: string }[] = [
    {
      case: 'a minute that is not *',
      input: {
        version: office([
          { cron: '* 8 * * *', instances: 1 },
          { cron: '0 9 * * 1-5', instances: 2 },
        ]),
      },
      field: 'version.presets[0].prebuilds.schedules[1].cron: minute',
    },
    {
      case: 'a cron with four fields',
      input: { version: office([{ cron: '* 9-17 * *', instances: 2 }]) },
      field: 'version.presets[0].prebuilds.schedules[0].cron: cron must have 5 fields',
    },
    {
      case: 'a step in the hour',
      input: { version: office([{ cron: '* */2 * * *', instances: 2 }]) },
      field: 'version.presets[0].prebuilds.schedules[0].cron: hour',
    },
    {
      case: 'an hour out of range',
      input: { version: office([{ cron: '* 9-24 * * *', instances: 2 }]) },
      field: 'version.presets[0].prebuilds.schedules[0].cron: hour',
    },
    {
      case: 'day-of-week 7',
      input: { version: office([{ cron: '* 9 * * 7', instances: 2 }]) },
      field: 'version.presets[0].prebuilds.schedules[0].cron: day-of-week',
    },
    {
      case: 'an unknown time zone',
      input: { version: office([{ cron: '* 9 * * *', instances: 2 }], 'Mars/Olympus_Mons') },
      field: "version.presets[0].prebuilds.timezone: unknown time zone 'Mars/Olympus_Mons'",
    },
    {
      case: 'schedules without a time zone',
      input: { version: office([{ cron: '* 9 * * *', instances: 2 }], null) },
      field: 'version.presets[0].prebuilds.timezone: required when schedules are given',
    },
    {
      case: 'overlapping schedules',
      input: {
        version: office([
          { cron: '* 0-8 * * *', instances: 1 },
          { cron: '* 9-17 * * 1-5', instances: 4 },
          { cron: '* 12 * * 3', instances: 5 },
        ]),
      },
      field: 'version.presets[0].prebuilds.schedules[2].cron: overlaps schedules[1]',
    },
    {
      case: 'duplicate preset names',
      input: { version: { name: 'v1', presets: [{ name: 'a' }, { name: 'b' }, { name: 'a' }] } },
      field: "version.presets[2].name: duplicate preset name 'a'",
    },
    {
      case: 'duplicate parameter names',
      input: { version: { name: 'v1', parameters: [{ name: 'cpu' }, { name: 'cpu', type: 'number' }] } },
      field: "version.parameters[1].name: duplicate parameter name 'cpu'",
    },
    {
      case: 'a preset parameter the version does not declare',
      input: {
        version: withPreset({ name: 'p', parameters: { region: 'eu', gpu: 'true' } }, [{ name: 'region' }]),
      },
      field: "version.presets[0].parameters.gpu: 'gpu' is not a parameter of this version",
    },
    {
      case: 'a preset value of the wrong type',
      input: {
        version: withPreset({ name: 'p', parameters: { cpu: 'lots' } }, [{ name: 'cpu', type: 'number' }]),
      },
      field: 'version.presets[0].parameters.cpu:',
    },
    {
      case: 'a default of the wrong type',
      input: {
        version: {
          name: 'v1',
          parameters: [{ name: 'region' }, { name: 'gpu', type: 'bool', default: 'yes' }],
        },
      },
      field: 'version.parameters[1].default:',
    },
    {
      case: 'a target expression that does not parse',
      input: { version: demand('claims_10m +') },
      field: 'version.presets[0].prebuilds.instancesExpression: Unexpected token: EOF at line 1, column 13',
    },
    {
      case: 'a target expression with an unknown variable',
      input: { version: demand('max(base,\n  claims_15m)') },
      field:
        'version.presets[0].prebuilds.instancesExpression: Unknown variable: claims_15m at line 2, column 3',
    },
    {
      case: 'a target expression mixing int and string',
      input: { version: demand('claims_10m + "2"') },
      field:
        'version.presets[0].prebuilds.instancesExpression: no such overload: int + string at line 1, column 1',
    },
    {
      case: 'a target expression that gives no number',
      input: { version: demand('claims_10m > 2') },
      field: 'version.presets[0].prebuilds.instancesExpression: must give a number (int or double), not bool',
    },
    {
      case: 'an unknown organization',
      input: { organizationId: '7f1c1a52-9a35-4c35-9b8e-3c3d8c3c0f00', version: fullVersion() },
      field: "organizationId: organization '7f1c1a52-9a35-4c35-9b8e-3c3d8c3c0f00' does not exist",
    },
  ];

  it.each(badInputs)(
    'refuses $case with a 400 naming the field and writes nothing',
    async ({ input, field }) => {
      const before = await rowCounts(ds);
      const attempt = service.createTemplate({ name: uniqueName('bad'), version: fullVersion(), ...input });
      await expect(attempt).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(attempt).rejects.toThrow(field);
      expect(await rowCounts(ds)).toEqual(before);
      expect(pubsub.published).toEqual([]);
    },
  );

  it('validates the shape itself when called directly, without the DTO pipe', async () => {
    const before = await rowCounts(ds);
    const version = office([{ cron: '* 9 * * *', instances: -1 }]);
    const attempt = service.createTemplate({ name: uniqueName('shape'), version });
    await expect(attempt).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(attempt).rejects.toThrow(
      'version.presets.0.prebuilds.schedules.0.instances must not be less than 0',
    );
    expect(await rowCounts(ds)).toEqual(before);
    expect(pubsub.published).toEqual([]);
  });

  it('rolls back everything when a statement fails after the first rows were written', async () => {
    const before = await rowCounts(ds);
    // A duplicate host id fails on the template's primary key; the version written with it goes too.
    const first = await catalog.registerTemplate({
      id: 'host-42',
      organizationId: 'org-a',
      name: uniqueName('first'),
      version: fullVersion(),
    });
    expect(first.id).toBe('host-42');
    const afterFirst = await rowCounts(ds);
    const again = catalog.registerTemplate({
      id: 'host-42',
      organizationId: 'org-a',
      name: uniqueName('second'),
      version: fullVersion(),
    });
    await expect(again).rejects.toMatchObject({ code: 'NAME_TAKEN' });
    await expect(again).rejects.toThrow("id: a template with id 'host-42' is already registered");
    expect(await rowCounts(ds)).toEqual(afterFirst);
    expect(afterFirst).not.toEqual(before);
  });

  it('adds versions: inactive by default, active with activate, refusing duplicate names and bad input', async () => {
    const template = await service.createTemplate({ name: uniqueName('versions'), version: fullVersion() });
    clock.advance(60_000);

    const quiet = await service.createVersion(template.id, { version: fullVersion('v2') });
    expect(quiet).toMatchObject({ name: 'v2', active: false });
    expect((await service.getTemplate(template.id)).activeVersion?.id).toBe(template.activeVersion.id);

    const v3 = await service.createVersion(template.id, {
      version: {
        name: 'v3',
        parameters: [{ name: 'size' }],
        presets: [{ name: 'xl', parameters: { size: 'xl' }, prebuilds: { instances: 3 } }],
      },
      activate: true,
    });
    expect(v3).toEqual({
      id: expect.any(String),
      name: 'v3',
      active: true,
      presets: [{ id: expect.any(String), name: 'xl' }],
    });
    const view = await service.getTemplate(template.id);
    expect(view.activeVersion).toMatchObject({
      id: v3.id,
      name: 'v3',
      createdAt: '2026-06-01T12:01:00.000Z',
      presets: [{ id: v3.presets[0].id, name: 'xl', prebuilds: { instances: 3 } }],
    });
    expect(view.updatedAt).toBe('2026-06-01T12:01:00.000Z');
    expect(pubsub.published.map((m) => m.payload)).toEqual([
      { templateId: template.id },
      { templateId: template.id },
      { templateId: template.id },
    ]);

    const before = await rowCounts(ds);
    await expect(
      service.createVersion(template.id, { version: fullVersion('v2'), activate: true }),
    ).rejects.toMatchObject({ code: 'NAME_TAKEN' });
    await expect(
      service.createVersion(template.id, {
        version: office([{ cron: '* 9 * * *', instances: 1 }], 'Nowhere/City'),
      }),
    ).rejects.toThrow('version.presets[0].prebuilds.timezone');
    expect(await rowCounts(ds)).toEqual(before);
    expect((await service.getTemplate(template.id)).activeVersion?.id).toBe(v3.id);
  });

  it('answers 404 for unknown, malformed and deleted templates', async () => {
    const unknown = '5a0c6bd4-0d3e-4a43-9f0a-7d2f1f9a6e11';
    await expect(service.getTemplate(unknown)).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
    await expect(service.getTemplate('not-a-uuid')).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
    await expect(service.createVersion(unknown, { version: fullVersion() })).rejects.toMatchObject({
      code: 'TEMPLATE_NOT_FOUND',
    });
    await expect(service.softDeleteTemplate(unknown)).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
    await expect(catalog.deprecateTemplate(unknown, 'old')).rejects.toMatchObject({
      code: 'TEMPLATE_NOT_FOUND',
    });
  });

  it('soft-deletes: the row stays, reads and new versions answer 404, the name is free again', async () => {
    const name = uniqueName('gone');
    const template = await service.createTemplate({ name, version: fullVersion() });
    clock.advance(1000);
    await service.softDeleteTemplate(template.id);
    const [row] = await ds.query(
      `SELECT deleted, updated_at AS "updatedAt" FROM prebuilds.templates WHERE id = $1`,
      [template.id],
    );
    expect(row).toEqual({ deleted: true, updatedAt: new Date('2026-06-01T12:00:01Z') });
    expect(pubsub.published.map((m) => m.payload)).toEqual([
      { templateId: template.id },
      { templateId: template.id },
    ]);

    await expect(service.getTemplate(template.id)).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND' });
    await expect(service.softDeleteTemplate(template.id)).rejects.toMatchObject({
      code: 'TEMPLATE_NOT_FOUND',
    });
    await expect(service.createVersion(template.id, { version: fullVersion('v2') })).rejects.toMatchObject({
      code: 'TEMPLATE_NOT_FOUND',
    });
    expect(await service.findTemplateIdByName(name)).toBeNull();
    const again = await service.createTemplate({ name, version: fullVersion() });
    expect(await service.findTemplateIdByName(name.toUpperCase())).toBe(again.id);
  });

  it('deprecates and un-deprecates a template', async () => {
    const template = await service.createTemplate({ name: uniqueName('old'), version: fullVersion() });
    await catalog.deprecateTemplate(template.id, 'use v2 of the new template');
    expect((await service.getTemplate(template.id)).deprecated).toBe('use v2 of the new template');
    await catalog.deprecateTemplate(template.id, '');
    expect((await service.getTemplate(template.id)).deprecated).toBe('');
  });

  it('still succeeds when the change cannot be published', async () => {
    const failingCatalog = catalogOf(new RecordingPubsub(true));
    const failing = new TemplatesService(failingCatalog);
    const warn = jest.spyOn(failingCatalog['logger'], 'warn');
    const template = await failing.createTemplate({ name: uniqueName('quiet'), version: fullVersion() });
    expect((await failing.getTemplate(template.id)).activeVersion?.presets).toHaveLength(3);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ event: 'template_changed_publish_failed', templateId: template.id }),
    );
  });

  describe('DemoSeedService', () => {
    it('seeds the demo template once, also when replicas seed at the same time', async () => {
      const seeders = [0, 1, 2].map(() => new DemoSeedService(service));
      await Promise.all(seeders.map((seeder) => seeder.seed()));
      await seeders[0].seed();
      const [{ count }] = await ds.query(
        `SELECT count(*)::int AS count FROM prebuilds.templates WHERE name = 'demo'`,
      );
      expect(count).toBe(1);

      const demo = await service.getTemplate((await service.findTemplateIdByName('demo')) as string);
      const presets = Object.fromEntries((demo.activeVersion?.presets ?? []).map((p) => [p.name, p]));
      expect(demo.activeVersion?.parameters).toEqual([
        { name: 'region', type: 'string', required: true, default: null },
        { name: 'cpu', type: 'number', required: false, default: '2' },
      ]);
      expect(presets.small).toMatchObject({
        parameters: { region: 'eu', cpu: '2' },
        prebuilds: { instances: 2 },
      });
      expect(presets.large).toMatchObject({
        parameters: { region: 'eu', cpu: '8' },
        prebuilds: { instances: 1, ttlSeconds: 86400 },
      });
      expect(presets.us).toMatchObject({
        parameters: { region: 'us' },
        prebuilds: {
          instances: 1,
          timezone: 'America/New_York',
          schedules: [{ cron: '* 9-17 * * 1-5', instances: 2 }],
        },
      });
      expect(presets.burst).toMatchObject({
        parameters: { region: 'ap' },
        prebuilds: { instances: 2, instancesExpression: 'min(base + claims_10m + misses_10m, 10)' },
      });
    });
  });
});

describe('template DTOs', () => {
  const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
  const validate = (metatype: typeof CreateTemplateDto | typeof CreateVersionDto, value: unknown) =>
    pipe.transform(value, { type: 'body', metatype });
  const messages = async (metatype: typeof CreateTemplateDto | typeof CreateVersionDto, value: unknown) => {
    try {
      await validate(metatype, value);
    } catch (error) {
      return ((error as BadRequestException).getResponse() as { message: string[] }).message;
    }
    throw new Error('expected the body to be refused');
  };

  it('accepts a full body', async () => {
    const dto = await validate(CreateTemplateDto, { name: 'ok', version: fullVersion() });
    expect(dto).toBeInstanceOf(CreateTemplateDto);
    expect(await validate(CreateVersionDto, { version: fullVersion(), activate: true })).toBeInstanceOf(
      CreateVersionDto,
    );
  });

  it.each([
    [
      'an unknown top-level field',
      { name: 'x', version: { name: 'v' }, owner: 'me' },
      'property owner should not exist',
    ],
    [
      'an unknown nested field',
      { name: 'x', version: { name: 'v', presets: [{ name: 'p', prebuilds: { instances: 1, count: 2 } }] } },
      'version.presets.0.prebuilds.property count should not exist',
    ],
    [
      'an empty name',
      { name: '', version: { name: 'v' } },
      'name must be longer than or equal to 1 characters',
    ],
    ['a blank name', { name: '   ', version: { name: 'v' } }, 'name must not be blank'],
    [
      'a name over 64 characters',
      { name: 'x'.repeat(65), version: { name: 'v' } },
      'name must be shorter than or equal to 64 characters',
    ],
    ['a missing version', { name: 'x' }, 'version should not be null or undefined'],
    [
      'too many instances',
      { name: 'x', version: { name: 'v', presets: [{ name: 'p', prebuilds: { instances: 1001 } }] } },
      'version.presets.0.prebuilds.instances must not be greater than 1000',
    ],
    [
      'fractional instances',
      { name: 'x', version: { name: 'v', presets: [{ name: 'p', prebuilds: { instances: 1.5 } }] } },
      'version.presets.0.prebuilds.instances must be an integer number',
    ],
    [
      'negative schedule instances',
      {
        name: 'x',
        version: {
          name: 'v',
          presets: [
            {
              name: 'p',
              prebuilds: { instances: 1, timezone: 'UTC', schedules: [{ cron: '* * * * *', instances: -1 }] },
            },
          ],
        },
      },
      'version.presets.0.prebuilds.schedules.0.instances must not be less than 0',
    ],
    [
      'a negative ttl',
      {
        name: 'x',
        version: { name: 'v', presets: [{ name: 'p', prebuilds: { instances: 1, ttlSeconds: -5 } }] },
      },
      'version.presets.0.prebuilds.ttlSeconds must not be less than 0',
    ],
    [
      'an unknown parameter type',
      { name: 'x', version: { name: 'v', parameters: [{ name: 'a', type: 'list' }] } },
      'version.parameters.0.type must be one of the following values: string, number, bool',
    ],
    [
      'a non-string preset value',
      { name: 'x', version: { name: 'v', presets: [{ name: 'p', parameters: { cpu: 2 } }] } },
      'version.presets.0.parameters must be an object of at most 200 string values',
    ],
    [
      'an organizationId that is not a string',
      { name: 'x', organizationId: 42, version: { name: 'v' } },
      'organizationId must be a string',
    ],
  ])('refuses %s', async (_case, body, message) => {
    expect((await messages(CreateTemplateDto, body)).join('; ')).toContain(message);
  });

  it('refuses a non-boolean activate', async () => {
    expect(await messages(CreateVersionDto, { version: { name: 'v' }, activate: 'yes' })).toEqual([
      'activate must be a boolean value',
    ]);
  });
});
