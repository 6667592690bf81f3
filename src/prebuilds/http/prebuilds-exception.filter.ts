import { type ArgumentsHost, Catch, type ExceptionFilter, Injectable } from '@nestjs/common';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { HttpAdapterHost } from '@nestjs/core';
import { mapError } from './error-response.js';
import { routeOf } from '../logging/request-route.js';

/**
 * Answers every error of our controllers as `{ statusCode, code, message }`. Scoped with `@PrebuildsController`
 * (never global), so that a host's own routes keep whatever error handling the host chose.
 */
@Catch()
@Injectable()
export class PrebuildsExceptionFilter implements ExceptionFilter {
  private readonly logger = new PrebuildsLogger(PrebuildsExceptionFilter.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { body, internal, retryAfterSeconds } = mapError(exception);
    const http = host.switchToHttp();
    const request = http.getRequest<object>();
    const response = http.getResponse<unknown>();
    if (internal) {
      this.logger.error({
        msg: 'request failed',
        event: 'internal_error',
        route: routeOf(request),
        err: exception,
      });
    }
    const adapter = this.adapterHost.httpAdapter;
    // A streamed answer that fails midway cannot be replaced by an error body; the log above has it.
    if (adapter.isHeadersSent(response)) return;
    if (retryAfterSeconds !== undefined)
      adapter.setHeader(response, 'Retry-After', String(retryAfterSeconds));
    if (body.code === 'DATABASE_UNAVAILABLE') {
      this.logger.warn({
        msg: 'database unavailable',
        event: 'database_unavailable',
        route: routeOf(request),
        error: (exception as Error)?.message,
      });
    }
    adapter.reply(response, body, body.statusCode);
  }
}
