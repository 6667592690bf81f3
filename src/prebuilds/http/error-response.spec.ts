import { describe, expect, it } from '@jest/globals';
import {
  BadRequestException,
  ConflictException,
  HttpException,
  HttpStatus,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
  ValidationPipe,
} from '@nestjs/common';
import { IsInt, IsString, Min } from 'class-validator';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import {
  bodyParserErrorOf,
  DATABASE_RETRY_AFTER_SECONDS,
  isDatabaseUnavailableError,
  mapError,
  statusOfCode,
} from './error-response.js';

// Typed as a Record over the enum, so that a new code without an expected status fails to compile here too.
const EXPECTED_STATUS: Record<PrebuildsErrorCode, number> = {
  [PrebuildsErrorCode.Unauthenticated]: 401,
  [PrebuildsErrorCode.Forbidden]: 403,
  [PrebuildsErrorCode.ValidationFailed]: 400,
  [PrebuildsErrorCode.InvalidParameters]: 400,
  [PrebuildsErrorCode.PresetNotActive]: 400,
  [PrebuildsErrorCode.TemplateNotFound]: 404,
  [PrebuildsErrorCode.PresetNotFound]: 404,
  [PrebuildsErrorCode.WorkspaceNotFound]: 404,
  [PrebuildsErrorCode.NameTaken]: 409,
  [PrebuildsErrorCode.ReconcileInProgress]: 409,
  [PrebuildsErrorCode.QuotaExceeded]: 403,
  [PrebuildsErrorCode.ProvisionerKeyInvalid]: 401,
  [PrebuildsErrorCode.ProvisionerKeyNotFound]: 404,
  [PrebuildsErrorCode.JobNotFound]: 404,
  [PrebuildsErrorCode.AgentNotFound]: 404,
  [PrebuildsErrorCode.BuildNotFound]: 404,
  [PrebuildsErrorCode.LeaseLost]: 409,
  [PrebuildsErrorCode.JobAlreadyCompleted]: 409,
  [PrebuildsErrorCode.BadRequest]: 400,
  [PrebuildsErrorCode.NotFound]: 404,
  [PrebuildsErrorCode.Conflict]: 409,
  [PrebuildsErrorCode.PayloadTooLarge]: 413,
  [PrebuildsErrorCode.UnsupportedMediaType]: 415,
  [PrebuildsErrorCode.Unavailable]: 503,
  [PrebuildsErrorCode.DatabaseUnavailable]: 503,
  [PrebuildsErrorCode.Internal]: 500,
};

/** What body-parser passes to Express, wrapped the way Nest's Express adapter wraps it (`mapException`). */
function bodyParserError(status: number, type: string, extra: Record<string, unknown> = {}): HttpException {
  const cause = Object.assign(new Error('from body-parser'), {
    status,
    statusCode: status,
    expose: true,
    type,
    ...extra,
  });
  return new HttpException(cause.message, status, { cause });
}

class SampleDto {
  @IsString() name: string;
  @IsInt() @Min(0) instances: number;
}

async function validationError(body: unknown): Promise<unknown> {
  const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
  try {
    await pipe.transform(body, { type: 'body', metatype: SampleDto });
  } catch (error) {
    return error;
  }
  throw new Error('expected the pipe to reject');
}

describe('statusOfCode', () => {
  it.each(Object.values(PrebuildsErrorCode))('%s', (code) => {
    expect(statusOfCode(code)).toBe(EXPECTED_STATUS[code]);
  });
});

describe('mapError', () => {
  it.each(Object.values(PrebuildsErrorCode))(
    'renders PrebuildsException(%s) with its code and message',
    (code) => {
      const { body } = mapError(new PrebuildsException(code, 'presetId: nope'));
      expect(body).toEqual({ statusCode: EXPECTED_STATUS[code], code, message: 'presetId: nope' });
    },
  );

  it('turns ValidationPipe messages into one VALIDATION_FAILED naming the fields', async () => {
    const { body, internal } = mapError(await validationError({ name: 3, instances: -1, extra: true }));
    expect(body.statusCode).toBe(400);
    expect(body.code).toBe(PrebuildsErrorCode.ValidationFailed);
    expect(body.message).toMatch(/property extra should not exist/);
    expect(body.message).toMatch(/name must be a string/);
    expect(body.message).toMatch(/instances must not be less than 0/);
    expect(internal).toBe(false);
  });

  it.each([
    [new BadRequestException('id must be a UUID'), 400, PrebuildsErrorCode.BadRequest, 'id must be a UUID'],
    [new NotFoundException('Cannot GET /x'), 404, PrebuildsErrorCode.NotFound, 'Cannot GET /x'],
    [new ConflictException('busy'), 409, PrebuildsErrorCode.Conflict, 'busy'],
    [new HttpException('slow down', 429), 429, PrebuildsErrorCode.BadRequest, 'slow down'],
    [new ServiceUnavailableException('database down'), 503, PrebuildsErrorCode.Unavailable, 'database down'],
  ])('maps %p by its status', (exception, statusCode, code, message) => {
    expect(mapError(exception)).toEqual({ body: { statusCode, code, message }, internal: false });
  });

  it('hides the message of a 5xx HttpException and flags it internal', () => {
    expect(mapError(new InternalServerErrorException('pool exhausted at 10.0.0.3'))).toEqual({
      body: { statusCode: 500, code: PrebuildsErrorCode.Internal, message: 'internal error' },
      internal: true,
    });
  });

  it('maps an oversized body to 413 PAYLOAD_TOO_LARGE', () => {
    const { body } = mapError(bodyParserError(413, 'entity.too.large', { limit: 102400, length: 200000 }));
    expect(body).toEqual({
      statusCode: 413,
      code: PrebuildsErrorCode.PayloadTooLarge,
      message: 'body: larger than the limit of 102400 bytes',
    });
  });

  it('maps malformed JSON to 400 BAD_REQUEST without echoing the body', () => {
    const syntax = Object.assign(new SyntaxError('Unexpected token s in JSON: "secret'), {
      status: 400,
      statusCode: 400,
      type: 'entity.parse.failed',
    });
    const { body } = mapError(new BadRequestException(syntax.message, { cause: syntax }));
    expect(body).toEqual({
      statusCode: 400,
      code: PrebuildsErrorCode.BadRequest,
      message: 'body: malformed JSON',
    });
  });

  it('maps an unsupported encoding to 415 and a raw (unwrapped) body-parser error too', () => {
    expect(mapError(bodyParserError(415, 'encoding.unsupported')).body.code).toBe(
      PrebuildsErrorCode.UnsupportedMediaType,
    );
    const raw = Object.assign(new Error('request entity too large'), {
      status: 413,
      type: 'entity.too.large',
    });
    expect(mapError(raw).body).toMatchObject({ statusCode: 413, code: PrebuildsErrorCode.PayloadTooLarge });
  });

  it("maps Fastify's body errors as their body-parser counterparts, wrapped by Nest or raw", () => {
    const fastifyError = (code: string, statusCode: number) =>
      Object.assign(new Error(code), { name: 'FastifyError', code, statusCode });
    const wrapped = (error: Error & { statusCode: number }) =>
      new HttpException(error.message, error.statusCode, { cause: error });
    expect(mapError(wrapped(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413))).body).toEqual({
      statusCode: 413,
      code: PrebuildsErrorCode.PayloadTooLarge,
      message: 'body: too large',
    });
    expect(mapError(fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400)).body).toEqual({
      statusCode: 400,
      code: PrebuildsErrorCode.BadRequest,
      message: 'body: malformed JSON',
    });
    expect(mapError(wrapped(fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415))).body).toEqual({
      statusCode: 415,
      code: PrebuildsErrorCode.UnsupportedMediaType,
      message: 'body: unsupported content type (send application/json)',
    });
    // Another Fastify client error is not a body error: it keeps its own status through the HttpException.
    expect(bodyParserErrorOf(wrapped(fastifyError('FST_ERR_NOT_FOUND', 404)))).toBeNull();
  });

  it('maps anything else to a generic 500 INTERNAL', () => {
    expect(mapError(new TypeError("Cannot read properties of undefined (reading 'id')"))).toEqual({
      body: { statusCode: 500, code: PrebuildsErrorCode.Internal, message: 'internal error' },
      internal: true,
    });
    expect(mapError('a string').body.statusCode).toBe(500);
    expect(mapError(null).body.statusCode).toBe(500);
  });
});

describe('bodyParserErrorOf', () => {
  it('ignores server-side stream errors and ordinary exceptions', () => {
    expect(bodyParserErrorOf(bodyParserError(500, 'stream.encoding.set'))).toBeNull();
    expect(bodyParserErrorOf(new NotFoundException())).toBeNull();
    expect(bodyParserErrorOf(new PrebuildsException(PrebuildsErrorCode.NotFound, 'x'))).toBeNull();
    expect(bodyParserErrorOf(HttpStatus.BAD_REQUEST)).toBeNull();
  });
});

describe('mapError: an unavailable database', () => {
  const sqlError = (code: string) =>
    Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('x'), { code }) });

  it.each([
    ['read-only (25006)', sqlError('25006')],
    ['too many connections (53300)', sqlError('53300')],
    ['shutting down (57P01)', sqlError('57P01')],
    ['connection exception (08006)', sqlError('08006')],
    [
      'unreachable',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    ['no pooled connection in time', new Error('timeout exceeded when trying to connect')],
    ['connection terminated', new Error('Connection terminated unexpectedly')],
  ])('%s is a 503 DATABASE_UNAVAILABLE with Retry-After', (_name, error) => {
    expect(isDatabaseUnavailableError(error)).toBe(true);
    expect(mapError(error)).toEqual({
      body: { statusCode: 503, code: 'DATABASE_UNAVAILABLE', message: expect.any(String) },
      internal: false,
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    });
  });

  it('leaves other database errors a 500', () => {
    expect(isDatabaseUnavailableError(sqlError('23505'))).toBe(false);
    expect(mapError(sqlError('42P01')).body.statusCode).toBe(500);
  });
});
