import { type ArgumentsHost, Catch, HttpStatus, Logger, NotFoundException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { mapError, PrebuildsErrorCode, type PrebuildsErrorBody } from 'nest-prebuilds';
import { MAX_JSON_DEPTH, TOO_DEEP_TYPE } from './json-depth.js';

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
    const request = http.getRequest<{ route?: unknown; method?: string }>();
    const response = http.getResponse<unknown>();
    const adapter = this.applicationRef ?? this.httpAdapterHost?.httpAdapter;
    if (!adapter || (request.route !== undefined && !isUnknownRoute(exception))) {
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
