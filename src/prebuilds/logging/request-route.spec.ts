import { describe, expect, it } from '@jest/globals';
import { routeOf } from './request-route.js';

describe('routeOf', () => {
  const url = '/api/v2/prebuilds/presets/0f0e/resume?x=1';

  it('names the matched route pattern on Express and on Fastify, never the ids', () => {
    expect(routeOf({ method: 'POST', url, route: { path: '/api/v2/prebuilds/presets/:id/resume' } })).toBe(
      'POST /api/v2/prebuilds/presets/:id/resume',
    );
    expect(
      routeOf({ method: 'POST', url, routeOptions: { url: '/api/v2/prebuilds/presets/:id/resume' } }),
    ).toBe('POST /api/v2/prebuilds/presets/:id/resume');
  });

  it('falls back to the path without its query when no route matched', () => {
    expect(routeOf({ method: 'GET', url, routeOptions: {} })).toBe(
      'GET /api/v2/prebuilds/presets/0f0e/resume',
    );
  });
});
