import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ConsoleLogger, type ExecutionContext, Logger, type LoggerService } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { stripVTControlCharacters } from 'node:util';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { authorizerOf } from '../rbac/permissions.js';
import { PrebuildsRbacGuard } from '../rbac/prebuilds-rbac.guard.js';
import { RequirePermission } from '../rbac/require-permission.decorator.js';
import { formatLogLine, PrebuildsLogger, printsText } from './prebuilds-logger.js';

/** Nest's active logger at load time: the default ConsoleLogger, restored after every test. */
const DEFAULT_LOGGER = (Logger as unknown as { staticInstanceRef?: LoggerService }).staticInstanceRef;

/** Everything written to stdout and stderr while `run` runs (awaited), colours removed; none reaches the terminal. */
async function captureOutput(run: () => unknown): Promise<string> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write);
  try {
    await run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return stripVTControlCharacters(chunks.join(''));
}

/** A logger that is not Nest's ConsoleLogger, keeping what it is handed. */
class StructuredSink implements LoggerService {
  readonly calls: { level: string; args: unknown[] }[] = [];
  log(...args: unknown[]): void {
    this.calls.push({ level: 'log', args });
  }
  warn(...args: unknown[]): void {
    this.calls.push({ level: 'warn', args });
  }
  error(...args: unknown[]): void {
    this.calls.push({ level: 'error', args });
  }
  debug(...args: unknown[]): void {
    this.calls.push({ level: 'debug', args });
  }
}

describe('formatLogLine', () => {
  it('puts the message first, then event, then the fields in order', () => {
    expect(
      formatLogLine({ msg: 'template registered', event: 'template_created', templateId: 't-1', presets: 3 }),
    ).toBe('template registered event=template_created templateId=t-1 presets=3');
  });

  it('quotes strings that need it and leaves bare words alone', () => {
    expect(
      formatLogLine({
        msg: 'm',
        event: 'e',
        a: 'has space',
        b: 'say "hi"',
        c: 'k=v',
        d: '',
        e: 'POST/x?y=1',
      }),
    ).toBe('m event=e a="has space" b="say \\"hi\\"" c="k=v" d="" e="POST/x?y=1"');
  });

  it('writes objects and arrays as JSON, dates as ISO, null and booleans as words', () => {
    const at = new Date('2024-05-01T10:00:00.000Z');
    expect(
      formatLogLine({
        msg: 'm',
        event: 'e',
        channels: ['a', 'b'],
        actions: { create: 2 },
        until: at,
        actor: null,
        active: false,
        big: 10n,
      }),
    ).toBe(
      'm event=e channels=["a","b"] actions={"create":2} until=2024-05-01T10:00:00.000Z actor=null active=false big=10',
    );
  });

  it('leaves undefined fields out', () => {
    expect(formatLogLine({ msg: 'm', event: 'e', error: undefined, id: 1 })).toBe('m event=e id=1');
  });

  it('keeps every entry on one line, errors and multi-line strings included', () => {
    const boom = new Error('connection refused');
    const line = formatLogLine({ msg: 'two\nlines', event: 'e', err: boom, note: 'a\nb' });
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).toContain('event=e');
    expect(line).toContain(`err=${JSON.stringify(boom.stack)}`);
    expect(line).toContain('note="a\\nb"');
  });

  it('survives values JSON cannot write', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(formatLogLine({ msg: 'm', event: 'e', circular })).toBe('m event=e circular="[unserializable]"');
  });
});

describe('PrebuildsLogger', () => {
  afterEach(() => {
    Logger.overrideLogger(DEFAULT_LOGGER ?? false);
  });

  it("prints one line per entry under Nest's default ConsoleLogger", async () => {
    const logger = new PrebuildsLogger('PrebuildsCatalog');
    const output = await captureOutput(() =>
      logger.log({ msg: 'template registered', event: 'template_created', templateId: 't-1', presets: 3 }),
    );
    expect(output.split('\n').filter(Boolean)).toHaveLength(1);
    expect(output).toContain(
      '[PrebuildsCatalog] template registered event=template_created templateId=t-1 presets=3',
    );
    expect(output).not.toContain('Object(');
  });

  it('prints an error entry on one line too, stack included', async () => {
    const logger = new PrebuildsLogger('PrebuildsExceptionFilter');
    const output = await captureOutput(() =>
      logger.error({ msg: 'request failed', event: 'internal_error', err: new Error('boom') }),
    );
    expect(output.split('\n').filter(Boolean)).toHaveLength(1);
    expect(output).toContain('request failed event=internal_error err="Error: boom\\n');
  });

  it('prints one line under a text ConsoleLogger the host installed', async () => {
    Logger.overrideLogger(new ConsoleLogger({ timestamp: true }));
    const output = await captureOutput(() =>
      new PrebuildsLogger('PrebuildsAdmin').warn({
        msg: 'wake-up not sent',
        event: 'publish_failed',
        error: 'x y',
      }),
    );
    expect(output.split('\n').filter(Boolean)).toHaveLength(1);
    expect(output).toContain('[PrebuildsAdmin] wake-up not sent event=publish_failed error="x y"');
  });

  it('passes the object to any other logger, with the context', () => {
    const sink = new StructuredSink();
    Logger.overrideLogger(sink);
    const fields = { msg: 'job acquired', event: 'job_acquired', jobId: 'j-1' };
    new PrebuildsLogger('ProvisionerJobService').debug(fields);
    expect(sink.calls).toEqual([{ level: 'debug', args: [fields, 'ProvisionerJobService'] }]);
  });

  it('passes the object to a ConsoleLogger in json mode', () => {
    const json = new ConsoleLogger({ json: true });
    expect(printsText(json)).toBe(false);
    Logger.overrideLogger(json);
    expect(printsText(new Logger('X'))).toBe(false);
  });

  it('passes the object to an explicit target that is not a console', () => {
    const sink = new StructuredSink();
    const fields = { msg: 'pubsub handler failed', event: 'pubsub_handler_error', channel: 'c' };
    new PrebuildsLogger('PostgresPubsub', sink).error(fields);
    expect(sink.calls).toEqual([{ level: 'error', args: [fields] }]);
  });

  it('keeps fields structured under nestjs-pino', () => {
    const lines: string[] = [];
    const pino = new PinoLogger({
      pinoHttp: [{ level: 'debug' }, { write: (line: string) => lines.push(line) }],
    });
    Logger.overrideLogger(new PinoNestLogger(pino, {}));
    new PrebuildsLogger('PrebuildsCatalog').log({
      msg: 'template registered',
      event: 'template_created',
      templateId: 't-1',
      presets: 3,
    });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 30,
      context: 'PrebuildsCatalog',
      msg: 'template registered',
      event: 'template_created',
      templateId: 't-1',
      presets: 3,
    });
  });

  describe('while Nest buffers the boot logs', () => {
    beforeEach(() => Logger.attachBuffer());
    afterEach(() => Logger.flush());

    it('decides at flush time, for the logger the host installed', async () => {
      const logger = new PrebuildsLogger('PrebuildsReconciler');
      const fields = { msg: 'reconciler started', event: 'reconciler_started', intervalMs: 1000 };
      const output = await captureOutput(() => logger.log(fields));
      expect(output).toBe('');
      const sink = new StructuredSink();
      Logger.overrideLogger(sink);
      Logger.flush();
      expect(sink.calls).toEqual([{ level: 'log', args: [fields, 'PrebuildsReconciler'] }]);
    });
  });
});

describe('module logs end to end', () => {
  class FakeController {
    @RequirePermission('prebuilds:reconcile')
    reconcile(): void {}
  }

  it("print the rbac guard's denial as one line under the default ConsoleLogger", async () => {
    const guard = new PrebuildsRbacGuard(
      new Reflector(),
      authorizerOf({ rolePermissions: { auditor: ['prebuilds:read'] } }),
    );
    const context = {
      switchToHttp: () => ({
        getRequest: () => ({
          method: 'POST',
          url: '/api/v2/prebuilds/reconcile',
          route: { path: '/api/v2/prebuilds/reconcile' },
          subject: { id: 'u-auditor', username: 'audrey', roles: ['auditor'] },
        }),
      }),
      getHandler: () => FakeController.prototype.reconcile,
      getClass: () => FakeController,
    } as unknown as ExecutionContext;
    const output = await captureOutput(() => guard.canActivate(context).catch((error: unknown) => error));
    const lines = output.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      '[PrebuildsRbacGuard] access denied event=access_denied subjectId=u-auditor ' +
        'permission=prebuilds:reconcile route="POST /api/v2/prebuilds/reconcile"',
    );
  });
});
