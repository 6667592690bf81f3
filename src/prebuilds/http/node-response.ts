import type { ServerResponse } from 'node:http';

/**
 * Node's response behind a route's `@Res()`, whichever platform the host runs: Express's response is one, and
 * Fastify's reply holds it as `raw`. The module's own routes run on both (its tests mount it on Express; this
 * repository's host runs Fastify).
 */
export function nodeResponseOf(response: object): ServerResponse {
  return (response as { raw?: ServerResponse }).raw ?? (response as ServerResponse);
}

/**
 * Takes a response over to write it by hand (a stream of events): Fastify must be told so (`hijack`), or it would
 * answer the request a second time when the handler returns. Express needs nothing.
 */
export function takeOverResponse(response: object): ServerResponse {
  const reply = response as { hijack?: () => unknown };
  if (typeof reply.hijack === 'function') reply.hijack();
  return nodeResponseOf(response);
}
