import 'reflect-metadata';
import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PrebuildsModule, runPrebuildsMigrations } from 'nest-prebuilds';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { AcmeController } from './acme.controller.js';
import { AcmeExceptionFilter } from './acme-exception.filter.js';
import { AcmeCatalogSeed, AcmeProvisioner, DevEnvsController } from './acme-prebuilds.js';
import { AcmeSchema1700000000000 } from './acme-schema.migration.js';
import { HeaderAuthMiddleware } from './header-auth.middleware.js';

const mount = process.env.MOUNT_PREBUILDS === '1';
const options: DataSourceOptions = {
  type: 'postgres',
  url: process.env.DATABASE_URL,
  migrations: [AcmeSchema1700000000000],
};

// The README's recipe: the module's schema migrated through the host's own DataSource, beside the host's migrations.
const migrator = await new DataSource(options).initialize();
await migrator.runMigrations();
if (mount) await runPrebuildsMigrations(migrator, { prebuildsOwnerId: 'acme-prebuilds' });
await migrator.destroy();

const prebuilds: DynamicModule[] = mount
  ? [
      PrebuildsModule.forRootAsync({
        useFactory: () => ({
          prebuildsOwnerId: 'acme-prebuilds',
          reconcileIntervalMs: 500,
          notifyDebounceMs: 20,
          // Acme's policy: admins may do everything, members may create dev environments.
          authorization: {
            authorize: (subject, permission) =>
              subject.roles.includes('admin') ||
              (permission === 'dev-envs:create' && subject.roles.includes('member')),
          },
        }),
      }),
    ]
  : [];

@Module({
  imports: [TypeOrmModule.forRoot(options), ...prebuilds],
  controllers: [AcmeController, ...(mount ? [DevEnvsController] : [])],
  providers: [HeaderAuthMiddleware, ...(mount ? [AcmeCatalogSeed, AcmeProvisioner] : [])],
})
class AcmeModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HeaderAuthMiddleware).forRoutes('{*path}');
  }
}

const app = await NestFactory.create(AcmeModule, { logger: ['error', 'warn'] });
app.setGlobalPrefix('api');
app.useGlobalPipes(new ValidationPipe({ whitelist: true }));
app.useGlobalFilters(new AcmeExceptionFilter());
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.stdout.write(`listening ${await app.getUrl()}\n`);
