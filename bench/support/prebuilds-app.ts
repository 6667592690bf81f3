import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Clock } from 'nest-prebuilds';
import { hostDataSourceOptions } from '../../src/host/database/host-data-source.js';
import { PrebuildsModule } from 'nest-prebuilds';
import type { PrebuildsModuleOptions } from 'nest-prebuilds';
import { PrebuildsPubsub } from 'nest-prebuilds';
import { SilentPubsub } from './doubles.js';
import { StatementLog } from './statement-log.js';

export interface PrebuildsAppOptions {
  url: string;
  module?: PrebuildsModuleOptions;
  /** Omitted: the module's own SystemClock. */
  clock?: Clock;
  /** 'postgres' keeps the module's PostgresPubsub (real NOTIFY); 'silent' replaces it. */
  pubsub: 'postgres' | 'silent';
  poolSize?: number;
}

export interface PrebuildsApp {
  module: TestingModule;
  dataSource: DataSource;
  statements: StatementLog;
  get<T>(token: abstract new (...args: never[]) => T): T;
  close(): Promise<void>;
}

/**
 * The module as a host mounts it, on the bench database. @nestjs/testing is used only for overrideProvider (the
 * clock and the pubsub); no HTTP adapter is created. Nest's logger is silenced: a log line per preset would measure
 * the console, not the module.
 */
export async function createPrebuildsApp(options: PrebuildsAppOptions): Promise<PrebuildsApp> {
  const statements = new StatementLog();
  let builder = Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(
        hostDataSourceOptions(options.url, {
          logging: true,
          logger: statements,
          poolSize: options.poolSize ?? 10,
        }),
      ),
      PrebuildsModule.forRoot({ enabled: false, replicaId: 'bench', ...options.module }),
    ],
  });
  if (options.clock) builder = builder.overrideProvider(Clock).useValue(options.clock);
  if (options.pubsub === 'silent') {
    builder = builder.overrideProvider(PrebuildsPubsub).useValue(new SilentPubsub());
  }
  const module = await builder.compile();
  module.useLogger(false);
  await module.init();
  return {
    module,
    dataSource: module.get(getDataSourceToken()),
    statements,
    get: (token) => module.get(token),
    close: () => module.close(),
  };
}
