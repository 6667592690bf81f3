import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/host-process.js';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL 15 cluster of the fault tests' own (never the shared one on 5432), so that they may stop, restart and
 * reconfigure it. Run as the `postgres` OS user when we are root, as src/host/database/embedded-postgres.ts does.
 */
export interface PrivateCluster {
  port: number;
  url(database?: string): string;
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  destroy(): void;
}

function runAsPostgres(args: string[]): { status: number | null; output: string } {
  const root = userInfo().uid === 0;
  const result = root
    ? spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', args.map((a) => `'${a}'`).join(' ')], {
        encoding: 'utf8',
      })
    : spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

function must(args: string[]): void {
  const { status, output } = runAsPostgres(args);
  if (status !== 0) throw new Error(`${args.join(' ')} failed (${status}): ${output}`);
}

export async function startPrivateCluster(): Promise<PrivateCluster> {
  const base = mkdtempSync('/var/tmp/prebuilds-faults-');
  chmodSync(base, 0o755);
  const dataDir = join(base, 'data');
  const logFile = join(base, 'postgres.log');
  if (userInfo().uid === 0) {
    const pgUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const pgGroup = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(base, Number(pgUser.stdout.trim()), Number(pgGroup.stdout.trim()));
  }
  const port = await freePort();
  must([
    `${BIN}/initdb`,
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const start = () =>
    must([
      `${BIN}/pg_ctl`,
      'start',
      '-D',
      dataDir,
      '-l',
      logFile,
      '-w',
      '-o',
      `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`,
    ]);
  start();
  const cluster: PrivateCluster = {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop: (mode = 'fast') => must([`${BIN}/pg_ctl`, 'stop', '-D', dataDir, '-m', mode, '-w']),
    start,
    destroy: () => {
      if (existsSync(join(dataDir, 'postmaster.pid'))) {
        runAsPostgres([`${BIN}/pg_ctl`, 'stop', '-D', dataDir, '-m', 'immediate', '-w']);
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
  return cluster;
}
