import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import pg from 'pg';
import { join } from 'node:path';
import { AppModule } from './app.module.js';
import { ConfigError } from './host/config/config-error.js';
import { loadHostConfig } from './host/config/host-config.js';
import { createHostHttpAdapter, setupHostApp } from './host/http/setup-host-app.js';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './host/database/embedded-postgres.js';
import { runPrebuildsMigrations } from 'nest-prebuilds';
import { runHostMigrations } from './host/database/host-data-source.js';

let embedded: EmbeddedPostgres | null = null;

async function assertDatabaseReachable(url: string, source: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    const { hostname, port } = new URL(url);
    throw new ConfigError(
      `cannot connect to ${source} (${hostname}:${port || 5432}): ${(error as Error).message}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const config = loadHostConfig();
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({
      dataDir: join(config.dataDir, 'postgres'),
      port: config.embeddedPgPort,
      database: 'prebuilds',
      log: (message) => process.stdout.write(`embedded-postgres: ${message}\n`),
    });
    databaseUrl = embedded.url;
  }
  await assertDatabaseReachable(databaseUrl, config.databaseUrl ? 'DATABASE_URL' : 'the embedded PostgreSQL');
  // The host's own tables (users, tokens) in its migrations table, then the module's schema in its own.
  await runHostMigrations(databaseUrl);
  await runPrebuildsMigrations(databaseUrl);

  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register({ config, databaseUrl }),
    createHostHttpAdapter(),
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  setupHostApp(app, config);

  // `npm start` forwards the signal it gets to us, and a terminal's Ctrl-C or a group kill reaches us directly too:
  // the same stop arrives twice. Keep listening (a `once` handler would leave the second one to Node's default,
  // which kills the process before the embedded PostgreSQL is stopped) and let the first one drive the shutdown.
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.get(Logger).log({ msg: 'shutting down', event: 'shutdown', signal });
    let code = 0;
    try {
      await app.close();
    } catch (error) {
      code = 1;
      process.stderr.write(`error: shutdown failed: ${(error as Error).message}\n`);
    } finally {
      await embedded?.stop().catch((error: unknown) => {
        code = 1;
        process.stderr.write(`error: stopping the embedded PostgreSQL failed: ${(error as Error).message}\n`);
      });
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    await app.listen(config.port, config.host);
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'EADDRINUSE'
        ? `port ${config.port} is already in use; set PORT to a free port`
        : (error as Error).message,
    );
  }
  app.get(Logger).log({
    msg: 'control plane ready',
    event: 'listening',
    host: config.host,
    port: config.port,
    embeddedDatabase: embedded !== null,
  });
}

main().catch(async (error: unknown) => {
  await embedded?.stop().catch(() => undefined);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${error instanceof ConfigError ? message : `failed to start: ${message}`}\n`);
  process.exit(1);
});
