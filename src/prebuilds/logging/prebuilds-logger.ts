import { ConsoleLogger, Logger, type LoggerService } from '@nestjs/common';

/** One log entry: a human message, a stable event name for filtering, and any number of fields. */
export interface LogFields {
  msg: string;
  event: string;
  [key: string]: unknown;
}

type Level = 'log' | 'warn' | 'error' | 'debug' | 'verbose' | 'fatal';

/** The parts of @nestjs/common's Logger statics that tell where its entries end up; not in its public types. */
interface LoggerStatics {
  staticInstanceRef?: LoggerService;
  isBufferAttached?: boolean;
  logBuffer?: { methodRef: (...args: unknown[]) => void; arguments: unknown[] }[];
}

const statics = Logger as unknown as LoggerStatics;

/** A word of these characters needs no quotes; anything else (spaces, quotes, `=`, control characters) is JSON-quoted. */
const BARE = /^[\w.:/@+,%#?&~!*-]+$/;

function formatValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return BARE.test(value) ? value : JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'symbol':
    case 'function':
      return JSON.stringify(String(value));
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'null' : value.toISOString();
  // The stack (or "Name: message") JSON-quoted: one line, nothing lost.
  if (value instanceof Error) return JSON.stringify(value.stack ?? `${value.name}: ${value.message}`);
  try {
    return (
      JSON.stringify(value, (_key, inner: unknown) =>
        typeof inner === 'bigint' ? inner.toString() : inner,
      ) ?? 'null'
    );
  } catch {
    return '"[unserializable]"';
  }
}

/**
 * One line: the message, then `key=value` for every other field, `event` first, undefined fields left out.
 * Strings with spaces are JSON-quoted, objects and arrays are JSON, dates ISO, errors their JSON-quoted stack.
 */
export function formatLogLine(fields: LogFields): string {
  const { msg, event, ...rest } = fields;
  const message = /[\r\n]/.test(msg) ? JSON.stringify(msg) : msg;
  const parts = [message, `event=${formatValue(event)}`];
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) parts.push(`${key}=${formatValue(value)}`);
  }
  return parts.join(' ');
}

/** Exactly Nest's Logger, not a subclass: it delegates every entry to Nest's active logger. */
function isNestLogger(logger: LoggerService | undefined): logger is Logger {
  return logger instanceof Logger && logger.constructor === Logger;
}

function isPlainConsole(logger: LoggerService | undefined): boolean {
  if (logger instanceof ConsoleLogger) {
    // A ConsoleLogger in json mode already writes one JSON line per entry, with the fields kept as fields.
    return !(logger as unknown as { options?: { json?: boolean } }).options?.json;
  }
  // A plain Logger (not a subclass) hands every entry to a ConsoleLogger of its own, as Nest's default does.
  return isNestLogger(logger);
}

/**
 * Whether entries sent to `target` end up in Nest's text ConsoleLogger. A plain `Logger` delegates to Nest's active
 * logger (`Logger.overrideLogger`/`app.useLogger`): the default ConsoleLogger, a plain Logger, or a text
 * ConsoleLogger print text; nestjs-pino or any other logger receives the structured object.
 */
export function printsText(target: LoggerService): boolean {
  if (isNestLogger(target)) {
    const active = statics.staticInstanceRef;
    return active === undefined || isPlainConsole(active);
  }
  return isPlainConsole(target);
}

/**
 * The module's logger: every call takes one object of fields. Under Nest's default ConsoleLogger (or any text
 * ConsoleLogger) the entry is written as one line, `message event=… key=value…`; under nestjs-pino, or any other
 * logger, the object itself is passed, so that its fields stay structured (`msg` becomes pino's message).
 * The choice is made per call, so a logger installed after this one was created is honoured.
 */
export class PrebuildsLogger {
  private readonly target: LoggerService;

  /** `target` defaults to `new Logger(context)`, which follows Nest's active logger and adds the context. */
  constructor(context: string, target?: LoggerService) {
    this.target = target ?? new Logger(context);
  }

  log(fields: LogFields): void {
    this.write('log', fields);
  }

  warn(fields: LogFields): void {
    this.write('warn', fields);
  }

  error(fields: LogFields): void {
    this.write('error', fields);
  }

  /** Per-job and per-build chatter; hidden unless the host enables the debug level. */
  debug(fields: LogFields): void {
    this.write('debug', fields);
  }

  verbose(fields: LogFields): void {
    this.write('verbose', fields);
  }

  fatal(fields: LogFields): void {
    this.write('fatal', fields);
  }

  private write(level: Level, fields: LogFields): void {
    // While Nest buffers the boot logs (`bufferLogs: true`), the logger that will print them is not known yet:
    // queue the decision itself, so that it is made at flush time against the logger the host installed.
    if (isNestLogger(this.target) && statics.isBufferAttached && Array.isArray(statics.logBuffer)) {
      statics.logBuffer.push({ methodRef: () => this.write(level, fields), arguments: [] });
      return;
    }
    this.target[level]?.(printsText(this.target) ? formatLogLine(fields) : fields);
  }
}
