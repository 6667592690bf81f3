import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { PrebuildsErrorCode } from 'nest-prebuilds';
import type { HostConfig } from '../config/host-config.js';
import { setupOpenApi } from '../openapi.js';
import { parseJsonBody } from './json-depth.js';

/** A `.` or `..` path segment, also percent-encoded. */
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

/** The largest JSON body, in bytes: 100 KiB, the limit the API has always had. */
export const JSON_BODY_LIMIT_BYTES = 100 * 1024;

/**
 * The host's HTTP platform: Fastify rather than Express. On the claim through HTTP (bench/scenarios/claim-http.ts)
 * Express's router, its body parser and its response helpers took a third of the server's event loop per claim;
 * the same app on Fastify claimed 1.3× as fast. The prebuilds module runs on either.
 */
export function createHostHttpAdapter(): FastifyAdapter {
  return new FastifyAdapter({ bodyLimit: JSON_BODY_LIMIT_BYTES });
}

/**
 * Everything about the HTTP application that is not a module: what `npm start` (main.ts) and the in-process test
 * app (test/support/host-app.ts) both call, before `init`/`listen`, so that tests see the headers, limits and docs
 * that production serves.
 */
export function setupHostApp(app: NestFastifyApplication, config: HostConfig): void {
  const fastify = app.getHttpAdapter().getInstance();
  // Every answer, errors and static files included: browsers must not sniff a JSON error into HTML. (Fastify
  // sends no framework banner, so there is no X-Powered-By to remove.)
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('X-Content-Type-Options', 'nosniff');
    // A path with `.` or `..` segments names no route; without this, one under /docs reached the docs' file server
    // (which refuses it with a 403 of its own) instead of the 404 every other unknown path gets.
    // Answered here, the request goes no further: a hook that sends does not call `done`.
    if (DOT_SEGMENT.test(request.url.split('?', 1)[0])) {
      void reply.code(404).send({
        statusCode: 404,
        code: PrebuildsErrorCode.NotFound,
        message: `Cannot ${request.method} ${request.url}`,
      });
      return;
    }
    done();
  });
  // JSON only: any other body type is a 415 naming what to send, not a body the validation pipe half-reads.
  fastify.removeContentTypeParser(['text/plain']);
  app.useBodyParser('application/json', { bodyLimit: JSON_BODY_LIMIT_BYTES }, (request, body, done) => {
    try {
      done(null, parseJsonBody(body, request.headers['content-type']));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.setGlobalPrefix('api/v2', { exclude: ['/'] });
  if (config.docsEnabled) setupOpenApi(app);
}
