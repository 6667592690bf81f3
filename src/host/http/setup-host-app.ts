import type { NestExpressApplication, NestExpressBodyParserOptionsFor } from '@nestjs/platform-express';
import type { HostConfig } from '../config/host-config.js';
import { setupOpenApi } from '../openapi.js';
import { verifyJsonDepth } from './json-depth.js';

/**
 * Everything about the HTTP application that is not a module: what `npm start` (main.ts) and the in-process test
 * app (test/support/host-app.ts) both call, before `init`/`listen`, so that tests see the headers, limits and docs
 * that production serves.
 */
export function setupHostApp(app: NestExpressApplication, config: HostConfig): void {
  // No framework banner for scanners.
  app.disable('x-powered-by');
  // Every answer, errors and static files included: browsers must not sniff a JSON error into HTML.
  app.use(
    (_request: unknown, response: { setHeader(name: string, value: string): void }, next: () => void) => {
      response.setHeader('X-Content-Type-Options', 'nosniff');
      next();
    },
  );
  // Registered before Nest's default JSON parser (which then stays out): too deep a body is a 400 before parsing,
  // never a stack overflow in the validation pipe. Nest's type leaves `verify` out (its rawBody option uses it);
  // at run time the options reach body-parser as given (rawBody is off), which test/http/hardening pins.
  app.useBodyParser('json', { verify: verifyJsonDepth } as NestExpressBodyParserOptionsFor<'json'>);
  app.setGlobalPrefix('api/v2', { exclude: ['/'] });
  if (config.docsEnabled) setupOpenApi(app);
}
