import {
  type ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { bodyParserErrorOf, mapError, PrebuildsErrorCode, type PrebuildsErrorBody } from 'nest-prebuilds';
import { MAX_JSON_DEPTH, TOO_DEEP_TYPE } from './json-depth.js';
import { JSON_BODY_LIMIT_BYTES } from './setup-host-app.js';

/**
 * The host's global filter. Whatever happens before any route matched (body parsing, the bearer-auth middleware,
 * a route that does not exist) answers in the API's `{ statusCode, code, message }` shape; errors of matched routes
 * are left to their own filters (the module's routes) or to Nest's default (health checks' 503 bodies).
 */
@Catch()
export class HostErrorFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(HostErrorFilter.name);

  override catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<RoutedRequest>();
    const response = http.getResponse<unknown>();
    const adapter = this.applicationRef ?? this.httpAdapterHost?.httpAdapter;
    if (!adapter || (routeMatched(request) && isRouteHttpException(exception))) {
      return super.catch(exception, host);
    }
    if (adapter.isHeadersSent(response)) return;
    let body: PrebuildsErrorBody;
    if (isTooDeep(exception)) {
      body = {
        statusCode: HttpStatus.BAD_REQUEST,
        code: PrebuildsErrorCode.BadRequest,
        message: `body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
      };
    } else {
      const mapped = mapError(exception);
      body = mapped.body;
      // Fastify's error does not say the limit; the host knows it.
      if (body.code === PrebuildsErrorCode.PayloadTooLarge)
        body = { ...body, message: `body: larger than the limit of ${JSON_BODY_LIMIT_BYTES} bytes` };
      if (mapped.internal) {
        this.logger.error({
          msg: 'request failed',
          event: 'internal_error',
          method: request.method,
          err: exception,
        });
      }
    }
    adapter.reply(response, body, body.statusCode);
  }
}

/** Express sets `route` once a route matched; Fastify matches before anything else runs and sets `routeOptions`. */
interface RoutedRequest {
  route?: unknown;
  routeOptions?: { url?: string };
  method?: string;
}

function routeMatched(request: RoutedRequest): boolean {
  return request.route !== undefined || request.routeOptions?.url !== undefined;
}

/**
 * An HttpException a matched route threw, which Nest's default renders (health checks' 503 bodies). Not what
 * happens around a route, which answers in the API's shape: an unknown route, a bad body (Fastify parses it after
 * matching, and Nest wraps its errors in HttpExceptions), or a plain error such as a middleware's database failure.
 */
function isRouteHttpException(exception: unknown): boolean {
  // A too deep body is a body error too (its error has body-parser's `type` and `status`).
  return (
    exception instanceof HttpException && !isUnknownRoute(exception) && bodyParserErrorOf(exception) === null
  );
}

/** Nest's not-found handler: a catch-all route (so `request.route` is set) that throws `Cannot <METHOD> <url>`. */
function isUnknownRoute(exception: unknown): boolean {
  return exception instanceof NotFoundException && /^Cannot [A-Z]+ /.test(exception.message);
}

function isTooDeep(exception: unknown): boolean {
  for (const candidate of [exception, (exception as { cause?: unknown } | null)?.cause]) {
    if ((candidate as { type?: unknown } | null)?.type === TOO_DEEP_TYPE) return true;
  }
  return false;
}
