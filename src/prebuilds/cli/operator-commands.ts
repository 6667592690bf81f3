import { type Command, Option } from 'commander';
import { ApiClient, UsageError } from './api-client.js';
import {
  HISTORY_WINDOWS,
  type HistoryAnswer,
  type PlanAnswer,
  type ProvisionerKeyAnswer,
  type ReconcileAnswer,
  renderHistory,
  renderKeys,
  renderPlan,
  renderReconcile,
  renderStatus,
  type StatusAnswer,
} from './render.js';
import { collect, parseTags } from './tags.js';

/** The options every command shares (set on the program, read through optsWithGlobals). */
export interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

export interface Output {
  out(text: string): void;
}

function operatorClient(options: GlobalOptions): ApiClient {
  if (!options.token) {
    throw new UsageError('no token: pass --token <token> or set PREBUILDS_TOKEN');
  }
  return new ApiClient({ url: options.url, headers: { authorization: `Bearer ${options.token}` } });
}

const segment = (id: string) => encodeURIComponent(id);

/**
 * Runs one operator command: calls the API, then prints its answer as JSON (`--json`) or as the human rendering.
 * Errors propagate to main, which prints one line and picks the exit code.
 */
function action(
  io: Output,
  call: (client: ApiClient, ...args: never[]) => Promise<unknown>,
  render: (answer: never) => string,
) {
  return async (...received: unknown[]) => {
    const command = received.at(-1) as Command;
    const options = command.optsWithGlobals<GlobalOptions>();
    // commander passes the arguments, then the command's own options, then the command.
    const answer = await call(operatorClient(options), ...(received.slice(0, -1) as never[]));
    io.out(options.json ? JSON.stringify(answer, null, 2) : render(answer as never));
  };
}

export function registerOperatorCommands(program: Command, io: Output): void {
  program
    .command('status')
    .description('every pool: desired, actual, eligible, in flight, failed, status and backoff')
    .action(
      action(
        io,
        (client) => client.get('/prebuilds/status'),
        (answer: StatusAnswer) => renderStatus(answer),
      ),
    );

  program
    .command('plan')
    .description('dry run: what a reconcile cycle would do now (executes nothing)')
    .action(
      action(
        io,
        (client) => client.get('/prebuilds/plan'),
        (answer: PlanAnswer) => renderPlan(answer),
      ),
    );

  program
    .command('pause')
    .description('pause the reconciler cluster-wide (claims and provisioners keep working)')
    .action(
      action(
        io,
        (client) => client.put('/prebuilds/settings', { reconciliationPaused: true }),
        () => 'reconciliation paused',
      ),
    );

  program
    .command('resume')
    .description('resume the reconciler')
    .action(
      action(
        io,
        (client) => client.put('/prebuilds/settings', { reconciliationPaused: false }),
        () => 'reconciliation resumed',
      ),
    );

  program
    .command('reconcile')
    .description('run a reconcile cycle now (exit 5 when one is already running)')
    .addOption(new Option('--template <id>', "only this template's presets"))
    .action(
      action(
        io,
        (client, opts: { template?: string }) =>
          client.post('/prebuilds/reconcile', opts.template ? { templateId: opts.template } : {}),
        (answer: ReconcileAnswer) => renderReconcile(answer),
      ),
    );

  program
    .command('invalidate')
    .description("expire every prebuild of the template's active version (the reconciler replaces them)")
    .argument('<template>', 'template id')
    .action(
      action(
        io,
        (client, template: string) => client.post(`/templates/${segment(template)}/prebuilds/invalidate`),
        (answer: { templateId: string; invalidatedPresets: number }) =>
          `template ${answer.templateId}: ${answer.invalidatedPresets} preset(s) invalidated`,
      ),
    );

  program
    .command('resume-preset')
    .description('reset a hard-limited preset so that it creates prebuilds again')
    .argument('<preset>', 'preset id')
    .action(
      action(
        io,
        (client, preset: string) => client.post(`/prebuilds/presets/${segment(preset)}/resume`),
        (answer: { presetId: string; status: string }) => `preset ${answer.presetId}: ${answer.status}`,
      ),
    );

  program
    .command('history')
    .description(
      "a preset's pool over time: desired, running, eligible, starting, claims and misses per bucket",
    )
    .argument('<preset>', 'preset id')
    .addOption(
      new Option('--window <window>', 'how far back (1h: 60 s buckets, 24h: 15 min, 7d: 2 h)')
        .choices(HISTORY_WINDOWS)
        .default('1h'),
    )
    .action(
      action(
        io,
        (client, preset: string, opts: { window: string }) =>
          client.get(
            `/prebuilds/presets/${segment(preset)}/history?window=${encodeURIComponent(opts.window)}`,
          ),
        (answer: HistoryAnswer) => renderHistory(answer),
      ),
    );

  const keys = program.command('keys').description('provisioner keys (owner only)');
  keys
    .command('create')
    .description('create a key; it is printed only this once')
    .argument('<name>', 'unique among live keys')
    .addOption(
      new Option('--tag <key=value>', 'a tag the key carries (repeatable; is_prebuild=true: prebuilds only)')
        .argParser(collect)
        .default([]),
    )
    .action(
      action(
        io,
        (client, name: string, opts: { tag: string[] }) =>
          client.post('/provisioner-keys', { name, tags: parseTags(opts.tag, '--tag') }),
        (answer: ProvisionerKeyAnswer) =>
          `${renderKeys([answer])}\nkey: ${answer.key}\n(shown only now: store it, e.g. as PREBUILDS_PROVISIONER_KEY)`,
      ),
    );
  keys
    .command('list')
    .description('every key, live and revoked (never the secret)')
    .action(
      action(
        io,
        (client) => client.get('/provisioner-keys'),
        (answer: ProvisionerKeyAnswer[]) => renderKeys(answer),
      ),
    );
  keys
    .command('revoke')
    .description('revoke a key: every replica refuses it from the next call on')
    .argument('<id>', 'key id')
    .action(
      action(
        io,
        (client, id: string) => client.delete(`/provisioner-keys/${segment(id)}`),
        (answer: ProvisionerKeyAnswer) => `key ${answer.id} (${answer.name}) revoked at ${answer.revokedAt}`,
      ),
    );
}
