interface RouteRequest {
  method?: string;
  url?: string;
  /** Express's matched route. */
  route?: { path?: unknown };
  /** Fastify's. */
  routeOptions?: { url?: unknown };
}

/**
 * `GET /api/v2/prebuilds/presets/:id/resume`: the matched route pattern rather than the URL, so that logs group by
 * route and carry no ids or query strings.
 */
export function routeOf(request: object): string {
  const { method, url, route, routeOptions } = request as RouteRequest;
  const pattern = route?.path ?? routeOptions?.url;
  const path = typeof pattern === 'string' ? pattern : url?.split('?')[0];
  return `${method ?? '?'} ${path ?? '?'}`;
}
