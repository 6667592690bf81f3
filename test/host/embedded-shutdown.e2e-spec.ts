import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { freePort } from '../support/host-process.js';
import { waitFor } from '../support/wait-for.js';

async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('npm start on the embedded PostgreSQL', () => {
  let scratch = '';
  let output = '';
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
    // As root the data moves where the postgres user can reach it (embedded-postgres.ts): remove that copy too.
    const moved = /keeping the data in (\S+)/.exec(output)?.[1];
    if (moved) await rm(dirname(moved), { recursive: true, force: true });
  });

  // `npm start` forwards the SIGTERM it gets, and a group kill or Ctrl-C also reaches node itself: the host sees the
  // same stop twice, and must still stop its embedded server before it exits.
  it('stops its embedded server when the stop signal arrives twice', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'prebuilds-shutdown-'));
    const [port, pgPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'info',
        PORT: String(port),
        EMBEDDED_PG_PORT: String(pgPort),
        DATA_DIR: join(scratch, 'data'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (code, signal) => resolve([code, signal])),
    );
    try {
      await waitFor(() => output.includes('control plane ready'), {
        timeoutMs: 60_000,
        message: 'the host to be ready',
      });
      expect(await accepts(pgPort)).toBe(true);

      child.kill('SIGTERM');
      await waitFor(() => output.includes('shutting down'), {
        timeoutMs: 10_000,
        message: 'the shutdown to start',
      });
      child.kill('SIGTERM');

      expect(await exited).toEqual([0, null]);
      expect(await accepts(pgPort)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      // A failed run must not leave its server behind for the rest of the suite (or the machine).
      spawnSync('pkill', ['-f', `-p ${pgPort} -c listen_addresses`]);
    }
  }, 90_000);
});
