interface RouteRequest {
  method?: string;
  url?: string;
  route?: { path?: unknown };
}

/**
 * `GET /api/v2/prebuilds/presets/:id/resume`: the matched route pattern rather than the URL, so that logs group by
 * route and carry no ids or query strings.
 */
export function routeOf(request: object): string {
  const { method, url, route } = request as RouteRequest;
  const path = typeof route?.path === 'string' ? route.path : url?.split('?')[0];
  return `${method ?? '?'} ${path ?? '?'}`;
}
