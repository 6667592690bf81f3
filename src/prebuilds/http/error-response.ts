import { HttpException, HttpStatus } from '@nestjs/common';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';

/** The one error shape of our routes (DESIGN.md, errors). */
export interface PrebuildsErrorBody {
  statusCode: number;
  code: PrebuildsErrorCode;
  message: string;
}

export interface MappedError {
  body: PrebuildsErrorBody;
  /** A server fault: the client gets a generic message and the error is logged with its details. */
  internal: boolean;
  /** Seconds for a `Retry-After` header (503 DATABASE_UNAVAILABLE). */
  retryAfterSeconds?: number;
}

/** How long a client is told to wait before retrying while the database is unavailable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

// SQLSTATEs of a database that cannot serve now: connection exceptions (08…), read-only (25006), too many
// connections (53300), shutting down or starting (57P01–57P03).
const UNAVAILABLE_SQLSTATES = new Set(['25006', '53300', '57P01', '57P02', '57P03']);
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// What node-postgres and its pool say when there is no usable connection (they carry no code).
const UNAVAILABLE_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /connection timeout/i,
  /not queryable/i,
  /cannot use a pool after calling end/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /terminating connection due to/i,
];

/**
 * Whether an error says the database cannot serve right now (rather than that the request or the code is wrong):
 * unreachable, read-only, out of connection slots, no pooled connection within the acquire timeout, shutting down.
 * Looks through TypeORM's `driverError` and `cause`.
 */
export function isDatabaseUnavailableError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let candidates: unknown[] = [error];
  while (candidates.length > 0) {
    const next: unknown[] = [];
    for (const candidate of candidates) {
      if (typeof candidate !== 'object' || candidate === null || seen.has(candidate)) continue;
      seen.add(candidate);
      const { code, message, driverError, cause, errors } = candidate as Record<string, unknown>;
      if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) return true;
      if (typeof code === 'string' && UNAVAILABLE_ERRNOS.has(code)) return true;
      if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) {
        return true;
      }
      next.push(driverError, cause, ...(Array.isArray(errors) ? errors : []));
    }
    candidates = next;
  }
  return false;
}

const INTERNAL_MESSAGE = 'internal error';

/** HTTP status of each domain code. Exhaustive: adding a code without a status does not compile. */
export function statusOfCode(code: PrebuildsErrorCode): HttpStatus {
  switch (code) {
    case PrebuildsErrorCode.Unauthenticated:
    case PrebuildsErrorCode.ProvisionerKeyInvalid:
      return HttpStatus.UNAUTHORIZED;
    case PrebuildsErrorCode.Forbidden:
    case PrebuildsErrorCode.QuotaExceeded:
      return HttpStatus.FORBIDDEN;
    // PresetNotActive: the preset exists but cannot serve this template; the request is wrong, not the state.
    case PrebuildsErrorCode.ValidationFailed:
    case PrebuildsErrorCode.InvalidParameters:
    case PrebuildsErrorCode.BadRequest:
    case PrebuildsErrorCode.PresetNotActive:
      return HttpStatus.BAD_REQUEST;
    case PrebuildsErrorCode.TemplateNotFound:
    case PrebuildsErrorCode.PresetNotFound:
    case PrebuildsErrorCode.WorkspaceNotFound:
    case PrebuildsErrorCode.ProvisionerKeyNotFound:
    case PrebuildsErrorCode.JobNotFound:
    case PrebuildsErrorCode.AgentNotFound:
    case PrebuildsErrorCode.BuildNotFound:
    case PrebuildsErrorCode.NotFound:
      return HttpStatus.NOT_FOUND;
    case PrebuildsErrorCode.NameTaken:
    case PrebuildsErrorCode.ReconcileInProgress:
    case PrebuildsErrorCode.LeaseLost:
    case PrebuildsErrorCode.JobAlreadyCompleted:
    case PrebuildsErrorCode.Conflict:
      return HttpStatus.CONFLICT;
    case PrebuildsErrorCode.PayloadTooLarge:
      return HttpStatus.PAYLOAD_TOO_LARGE;
    case PrebuildsErrorCode.UnsupportedMediaType:
      return HttpStatus.UNSUPPORTED_MEDIA_TYPE;
    case PrebuildsErrorCode.Unavailable:
    case PrebuildsErrorCode.DatabaseUnavailable:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case PrebuildsErrorCode.Internal:
      return HttpStatus.INTERNAL_SERVER_ERROR;
    default:
      return unreachable(code);
  }
}

function unreachable(code: never): never {
  throw new Error(`no HTTP status for error code ${String(code)}`);
}

/**
 * Maps anything a route can throw to our shape: our exception by its code; Nest's HttpExceptions (ValidationPipe,
 * NotFoundException, …) and body-parser errors by their status; anything else is a 500 whose details stay in the log.
 */
export function mapError(exception: unknown): MappedError {
  if (exception instanceof PrebuildsException) {
    const statusCode = statusOfCode(exception.code);
    const internal = statusCode >= 500 && statusCode !== HttpStatus.SERVICE_UNAVAILABLE;
    return { body: { statusCode, code: exception.code, message: exception.message }, internal };
  }
  if (isDatabaseUnavailableError(exception)) {
    return {
      body: {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        code: PrebuildsErrorCode.DatabaseUnavailable,
        message: 'the database is unavailable; retry later',
      },
      internal: false,
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    };
  }
  const bodyError = bodyParserErrorOf(exception);
  if (bodyError) return { body: mapBodyParserError(bodyError), internal: false };
  if (exception instanceof HttpException) return mapHttpException(exception);
  return {
    body: { statusCode: 500, code: PrebuildsErrorCode.Internal, message: INTERNAL_MESSAGE },
    internal: true,
  };
}

function mapHttpException(exception: HttpException): MappedError {
  const statusCode = exception.getStatus();
  const response = exception.getResponse();
  const raw =
    typeof response === 'object' && response !== null && 'message' in response
      ? (response as { message: unknown }).message
      : response;
  // ValidationPipe answers one message per failed constraint, each starting with the field's path.
  if (Array.isArray(raw)) {
    const message = raw.map(String).join('; ');
    const code = statusCode === 400 ? PrebuildsErrorCode.ValidationFailed : codeOfStatus(statusCode);
    return { body: { statusCode, code, message }, internal: statusCode >= 500 && statusCode !== 503 };
  }
  const code = codeOfStatus(statusCode);
  if (statusCode >= 500 && statusCode !== HttpStatus.SERVICE_UNAVAILABLE) {
    return { body: { statusCode, code, message: INTERNAL_MESSAGE }, internal: true };
  }
  const message = typeof raw === 'string' && raw !== '' ? raw : exception.message;
  return { body: { statusCode, code, message }, internal: false };
}

/** A code for a status Nest chose; statuses without a code of their own keep their status under BAD_REQUEST. */
function codeOfStatus(status: number): PrebuildsErrorCode {
  switch (status) {
    case HttpStatus.UNAUTHORIZED:
      return PrebuildsErrorCode.Unauthenticated;
    case HttpStatus.FORBIDDEN:
      return PrebuildsErrorCode.Forbidden;
    case HttpStatus.NOT_FOUND:
      return PrebuildsErrorCode.NotFound;
    case HttpStatus.CONFLICT:
      return PrebuildsErrorCode.Conflict;
    case HttpStatus.PAYLOAD_TOO_LARGE:
      return PrebuildsErrorCode.PayloadTooLarge;
    case HttpStatus.UNSUPPORTED_MEDIA_TYPE:
      return PrebuildsErrorCode.UnsupportedMediaType;
    case HttpStatus.SERVICE_UNAVAILABLE:
      return PrebuildsErrorCode.Unavailable;
    default:
      return status >= 500 ? PrebuildsErrorCode.Internal : PrebuildsErrorCode.BadRequest;
  }
}

/** What body-parser (through http-errors) attaches to its errors. */
export interface BodyParserError {
  type: string;
  status: number;
  limit?: number;
}

/**
 * Fastify's body errors (its `FST_ERR_CTP_…` codes) as the body-parser types they correspond to, so that a host on
 * either platform answers a bad body alike.
 */
const FASTIFY_BODY_ERROR_TYPES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'entity.too.large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.size.invalid',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'entity.parse.failed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'entity.parse.failed',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'media.unsupported',
};

/**
 * The body-parser error behind an exception, if any. Nest's Express adapter wraps it in an HttpException with the
 * original as `cause`; other adapters or versions may pass it raw, so both are recognised, and so are Fastify's.
 * Only client errors count: a 5xx from the stream is a server fault and stays a 500.
 */
export function bodyParserErrorOf(exception: unknown): BodyParserError | null {
  for (const candidate of [exception, (exception as { cause?: unknown } | null)?.cause]) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const { type, status, statusCode, limit, code: errorCode } = candidate as Record<string, unknown>;
    const code = typeof status === 'number' ? status : statusCode;
    if (typeof code !== 'number' || code < 400 || code >= 500) continue;
    if (typeof type === 'string')
      return { type, status: code, limit: typeof limit === 'number' ? limit : undefined };
    const fastifyType = typeof errorCode === 'string' ? FASTIFY_BODY_ERROR_TYPES[errorCode] : undefined;
    if (fastifyType) return { type: fastifyType, status: code };
  }
  return null;
}

function mapBodyParserError(error: BodyParserError): PrebuildsErrorBody {
  switch (error.type) {
    case 'entity.too.large':
      return {
        statusCode: HttpStatus.PAYLOAD_TOO_LARGE,
        code: PrebuildsErrorCode.PayloadTooLarge,
        message:
          error.limit === undefined
            ? 'body: too large'
            : `body: larger than the limit of ${error.limit} bytes`,
      };
    case 'entity.parse.failed':
      // The parser's own message quotes the body back; the client has it already, the log does not need it.
      return { statusCode: 400, code: PrebuildsErrorCode.BadRequest, message: 'body: malformed JSON' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return {
        statusCode: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        code: PrebuildsErrorCode.UnsupportedMediaType,
        message: 'body: unsupported content encoding or charset',
      };
    case 'media.unsupported':
      return {
        statusCode: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        code: PrebuildsErrorCode.UnsupportedMediaType,
        message: 'body: unsupported content type (send application/json)',
      };
    default:
      return {
        statusCode: error.status,
        code: codeOfStatus(error.status),
        message: `body: could not be read (${error.type})`,
      };
  }
}
