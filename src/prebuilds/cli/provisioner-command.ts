import { hostname } from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from './api-client.js';
import type { GlobalOptions } from './operator-commands.js';
import { ProvisionerDaemon } from './provisioner-daemon.js';
import { collect, parseTags } from './tags.js';

const WORKER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,100}$/;

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < 1 || parsed > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    }
    return parsed;
  };
}

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 86_400) {
    throw new InvalidArgumentError('must be a number of seconds from 0 to 86400');
  }
  return parsed;
}

/** This host's name and process id, reduced to what a worker id may hold. */
function defaultWorkerId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_.@-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '') || 'daemon';
  return `${host.slice(0, 80)}-${process.pid}`;
}

interface ProvisionerOptions {
  key?: string;
  tags: string[];
  concurrency: number;
  command: string;
  workerId?: string;
  shutdownGrace: number;
  waitMs: number;
}

export function registerProvisionerCommand(
  program: Command,
  run: (daemon: ProvisionerDaemon) => Promise<void>,
): void {
  program
    .command('provisioner')
    .description('run a provisioner daemon: acquire jobs with a provisioner key and run --command per job')
    .addOption(new Option('--key <key>', 'provisioner key (keys create)').env('PREBUILDS_PROVISIONER_KEY'))
    .requiredOption('--command <command>', 'shell command run per job, with the job in its environment')
    .addOption(
      new Option('--tags <k=v,...>', "the key's tags, for the log only (the key decides what it takes)")
        .argParser(collect)
        .default([]),
    )
    .addOption(
      new Option('--concurrency <n>', 'jobs at once (one acquire loop each)')
        .argParser(positiveInt('--concurrency', 256))
        .default(1),
    )
    .option('--worker-id <id>', 'name of this daemon (workers are <id>:0, <id>:1, …); default <host>-<pid>')
    .addOption(
      new Option('--shutdown-grace <seconds>', 'on SIGTERM, how long running commands may finish')
        .argParser(seconds)
        .default(30),
    )
    .addOption(
      new Option('--wait-ms <ms>', 'long poll window of one acquire (≤ 30000)')
        .argParser(positiveInt('--wait-ms', 30_000))
        .default(25_000)
        .hideHelp(),
    )
    .action(async (options: ProvisionerOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions & ProvisionerOptions>();
      if (!options.key) throw new UsageError('no key: pass --key <key> or set PREBUILDS_PROVISIONER_KEY');
      const workerId = options.workerId ?? defaultWorkerId();
      if (!WORKER_ID.test(workerId)) {
        throw new UsageError('--worker-id must be 1-100 of A-Z a-z 0-9 _ . : @ - (a letter or digit first)');
      }
      const daemon = new ProvisionerDaemon({
        url: globals.url,
        key: options.key,
        concurrency: options.concurrency,
        command: options.command,
        workerId,
        waitMs: options.waitMs,
        shutdownGraceMs: Math.round(options.shutdownGrace * 1000),
        tags: parseTags(options.tags, '--tags'),
        env: process.env,
        write: (line) => process.stderr.write(`${line}\n`),
      });
      await run(daemon);
    });
}
