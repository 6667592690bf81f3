import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from '../support/wait-for.js';

/** Running the built `nest-prebuilds` tool (the package's bin) as a child process, as a user or a script would. */

const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = resolve(ROOT, 'packages/nest-prebuilds/bin/nest-prebuilds.js');
export const BUILD_SCRIPT = resolve(ROOT, 'test/cli/fixtures/build.sh');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', ...extra };
}

/** One command to its end. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: baseEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

export interface Daemon {
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `nest-prebuilds provisioner …` in the background. */
export function startDaemon(
  url: string,
  key: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Daemon {
  const child = spawn(
    process.execPath,
    [BIN, 'provisioner', '--url', url, '--command', `sh ${BUILD_SCRIPT}`, '--wait-ms', '5000', ...extraArgs],
    { env: baseEnv({ PREBUILDS_PROVISIONER_KEY: key, ...env }), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return {
    child,
    stderr: () => stderr,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** `waitFor` as the CLI tests read it: what is awaited first, polled every 100 ms, 20 s unless told. */
export function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  deadlineMs = 20_000,
): Promise<NonNullable<T>> {
  return waitFor(probe, { timeoutMs: deadlineMs, intervalMs: 100, message: what }) as Promise<NonNullable<T>>;
}
