#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { describeFailure } from './api-client.js';
import { ExitCode } from './exit-codes.js';
import { registerOperatorCommands } from './operator-commands.js';
import { registerProvisionerCommand } from './provisioner-command.js';

/**
 * `nest-prebuilds`: the module's command-line tool, operator commands and the reference provisioner daemon. Plain
 * fetch against the HTTP API; it loads neither Nest nor TypeORM.
 */

/** The host app's address and global prefix when nothing else is said. */
export const DEFAULT_URL = 'http://127.0.0.1:3000/api/v2';

function packageVersion(): string {
  try {
    const raw = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(raw) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function buildProgram(onDaemonExit: (code: ExitCode) => void): Command {
  const program = new Command('nest-prebuilds')
    .description('Operate prebuilds pools and run provisioner daemons against a nest-prebuilds control plane')
    .version(packageVersion())
    .addOption(
      new Option('--url <url>', 'API base URL, with its prefix').env('PREBUILDS_URL').default(DEFAULT_URL),
    )
    .addOption(new Option('--token <token>', 'bearer token of an operator').env('PREBUILDS_TOKEN'))
    .option('--json', 'print the API answer as JSON (for scripts)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 API error, 2 usage error, 3 API unreachable, 4 token or key refused (401/403),\n' +
        '5 reconcile already running (409).',
    )
    .exitOverride();
  registerOperatorCommands(program, { out: (text) => process.stdout.write(`${text}\n`) });
  registerProvisionerCommand(program, async (daemon) => {
    const stop = (signal: NodeJS.Signals) => daemon.shutdown(signal);
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    onDaemonExit(await daemon.run());
  });
  return program;
}

async function main(argv: string[]): Promise<void> {
  // `nest-prebuilds status | head`: a reader that went away is not an error of ours.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const program = buildProgram((code) => process.exit(code));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander printed its message (or the help) already.
      process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
      return;
    }
    const { line, exitCode } = describeFailure(error);
    process.stderr.write(`${line}\n`);
    process.exitCode = exitCode;
  }
}

await main(process.argv);
