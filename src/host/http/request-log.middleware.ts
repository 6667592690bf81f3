import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';

/** Probes would drown the request log. */
const PROBE_PATH = /\/(healthz|readyz|metrics)(\?|$)/;

/**
 * The request log: one line per answer, written when it has been sent (or the client went away first), with the
 * method, path, status and time taken; never a header, so never a bearer token or a provisioner key.
 *
 * It stands in for nestjs-pino's request middleware, which AppModule turns off (LoggerModule's `forRoutes: []`),
 * for what that costs on every request whether or not anything is written. pino-http builds a child logger per
 * request and so serialises and redacts the request with its headers up front, and nestjs-pino runs the rest of
 * the request inside an AsyncLocalStorage, which on Node 20 puts a hook on every promise created from then on. On
 * the claim through HTTP (bench/scenarios/claim-http.ts) both together came to about a fifth of the server's
 * event-loop time per claim (0.89–1.06 ms with them, 0.72–0.84 ms without). The price: the application's own log
 * lines carry no request id.
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  private sequence = 0;

  use(request: IncomingMessage & { originalUrl?: string }, response: ServerResponse, next: () => void): void {
    // Express strips a middleware's mount path from `url`; `originalUrl` is the path as requested.
    const url = request.originalUrl ?? request.url ?? '';
    // At `silent` it costs nothing; otherwise each line's level is checked when written, like any other.
    if (PROBE_PATH.test(url) || !PinoLogger.root.isLevelEnabled('error')) return next();
    const id = ++this.sequence;
    const startedAt = performance.now();
    const done = () => {
      response.off('finish', done);
      response.off('close', done);
      const status = response.statusCode;
      // Flat fields: the root logger's `req`/`res` serializers (pino-http's) expect Node's objects under those keys.
      const entry = {
        event: 'http_request',
        requestId: id,
        method: request.method,
        url,
        statusCode: status,
        responseTimeMs: Math.round(performance.now() - startedAt),
        remoteAddress: request.socket?.remoteAddress,
      };
      if (!response.writableFinished)
        PinoLogger.root.warn(entry, 'request aborted before the answer was sent');
      else if (status >= 500) PinoLogger.root.error(entry, 'request errored');
      else PinoLogger.root.info(entry, 'request completed');
    };
    response.on('finish', done);
    response.on('close', done);
    next();
  }
}
