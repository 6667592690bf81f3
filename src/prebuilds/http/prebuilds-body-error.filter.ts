import { type ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { bodyParserErrorOf, isDatabaseUnavailableError, mapError } from './error-response.js';

/**
 * The one piece the host installs globally. Body parsing runs before any route's handler (Express middleware, or
 * Fastify's content-type parsers), so its errors (oversized or malformed JSON) reach only global filters, never the
 * filter scoped to our controllers. This filter
 * answers those in our shape, and a database that is unavailable (from any route or middleware, the host's
 * authentication included) as 503 DATABASE_UNAVAILABLE with Retry-After; it hands everything else to Nest's default handling, unchanged, so the host's other
 * routes (health checks' 503 bodies, its own errors) behave as before.
 *
 * Install in the host's root module: `providers: [{ provide: APP_FILTER, useClass: PrebuildsBodyErrorFilter }]`
 * (Nest injects the HTTP adapter), or `app.useGlobalFilters(new PrebuildsBodyErrorFilter(app.getHttpAdapter()))`.
 */
@Catch()
export class PrebuildsBodyErrorFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    // Also an unavailable database, which host middleware (authentication) may hit before any route: 503, not 500.
    if (!bodyParserErrorOf(exception) && !isDatabaseUnavailableError(exception))
      return super.catch(exception, host);
    const adapter = this.applicationRef ?? this.httpAdapterHost?.httpAdapter;
    const response = host.switchToHttp().getResponse<unknown>();
    if (!adapter) return super.catch(exception, host);
    if (adapter.isHeadersSent(response)) return;
    const { body, retryAfterSeconds } = mapError(exception);
    if (retryAfterSeconds !== undefined)
      adapter.setHeader(response, 'Retry-After', String(retryAfterSeconds));
    adapter.reply(response, body, body.statusCode);
  }
}
