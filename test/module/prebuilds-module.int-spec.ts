import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { testDataSourceOptions } from '../support/test-data-source.js';
import { PrebuildsModule } from '../../src/prebuilds/prebuilds.module.js';
import {
  PREBUILDS_OPTIONS,
  type PrebuildsModuleOptions,
  type ResolvedPrebuildsOptions,
} from '../../src/prebuilds/prebuilds.options.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

@Injectable()
class OptionsFactory {
  createPrebuildsOptions(): PrebuildsModuleOptions {
    return { enabled: false, concurrency: 3 };
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsFactoryModule {}

describe('PrebuildsModule', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  async function resolvedOptions(
    prebuilds: ReturnType<typeof PrebuildsModule.forRoot>,
  ): Promise<ResolvedPrebuildsOptions> {
    const moduleRef = await Test.createTestingModule({
      imports: [TypeOrmModule.forRoot(testDataSourceOptions(db.url, { poolSize: 2 })), prebuilds],
    }).compile();
    try {
      return moduleRef.get(PREBUILDS_OPTIONS);
    } finally {
      await moduleRef.close();
    }
  }

  it.each([
    ['forRoot', () => PrebuildsModule.forRoot({ enabled: false, concurrency: 3 })],
    [
      'forRootAsync useFactory',
      () => PrebuildsModule.forRootAsync({ useFactory: () => ({ enabled: false, concurrency: 3 }) }),
    ],
    ['forRootAsync useClass', () => PrebuildsModule.forRootAsync({ useClass: OptionsFactory })],
    [
      'forRootAsync useExisting',
      () => PrebuildsModule.forRootAsync({ imports: [OptionsFactoryModule], useExisting: OptionsFactory }),
    ],
  ])('compiles with %s and applies the defaults once', async (_form, make) => {
    const options = await resolvedOptions(make());
    expect(options).toMatchObject({
      enabled: false,
      concurrency: 3,
      reconcileIntervalMs: 60_000,
      backoffIntervalMs: 60_000,
      backoffLookbackMs: 3_600_000,
      failureHardLimit: 3,
      maxInstancesPerPreset: 100,
      maxCreatesPerCycle: 500,
      maxInFlightCreates: 200,
      maxPrebuilds: 5000,
      eventRetentionMs: 7 * 24 * 3_600_000,
    });
  });
});
