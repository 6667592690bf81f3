import { type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import { Clock } from '../../src/prebuilds/clock/clock.js';
import { testDataSourceOptions } from './test-data-source.js';
import { PrebuildsModule } from '../../src/prebuilds/prebuilds.module.js';
import type { PrebuildsModuleOptions } from '../../src/prebuilds/prebuilds.options.js';
import { PrebuildsPubsub } from '../../src/prebuilds/pubsub/prebuilds-pubsub.js';
import { ReconcilerService } from '../../src/prebuilds/reconciler/reconciler.service.js';
import { FakeClock } from './fake-clock.js';
import { RecordingPubsub } from './recording-pubsub.js';

/** Counts the SQL statements a DataSource sends, so tests can pin the statements per cycle. */
export class CountingLogger implements TypeOrmLogger {
  statements: string[] = [];
  logQuery(query: string): void {
    this.statements.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

export interface PrebuildsTestContext {
  app: INestApplication;
  dataSource: DataSource;
  clock: FakeClock;
  pubsub: PrebuildsPubsub;
  reconciler: ReconcilerService;
  sql: CountingLogger;
  close(): Promise<void>;
}

/**
 * The module as a host mounts it, on a test database, with a fake clock and (by default) an in-memory pubsub.
 * The loop is off unless the test turns it on: tests drive cycles themselves.
 */
export async function createPrebuildsTestContext(
  databaseUrl: string,
  options: PrebuildsModuleOptions = {},
  { pubsub = new RecordingPubsub() as PrebuildsPubsub | null, clock = new FakeClock() } = {},
): Promise<PrebuildsTestContext> {
  const sql = new CountingLogger();
  let builder = Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(testDataSourceOptions(databaseUrl, { logging: true, logger: sql, poolSize: 10 })),
      PrebuildsModule.forRoot({ enabled: false, replicaId: 'test', ...options }),
    ],
  })
    .overrideProvider(Clock)
    .useValue(clock);
  if (pubsub) builder = builder.overrideProvider(PrebuildsPubsub).useValue(pubsub);
  const moduleRef = await builder.compile();
  moduleRef.useLogger(false);
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return {
    app,
    dataSource: app.get(getDataSourceToken()),
    clock,
    pubsub: app.get(PrebuildsPubsub),
    reconciler: app.get(ReconcilerService),
    sql,
    close: () => app.close(),
  };
}
