import { describe, expect, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';

function contextWith(authorization?: string): ExecutionContext {
  const request = { headers: authorization === undefined ? {} : { authorization } };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

describe('MetricsTokenGuard', () => {
  it('lets everyone scrape when no token is configured', () => {
    expect(new MetricsTokenGuard(null).canActivate(contextWith())).toBe(true);
    expect(new MetricsTokenGuard(undefined).canActivate(contextWith('Bearer whatever'))).toBe(true);
  });

  it('requires the configured token', () => {
    const guard = new MetricsTokenGuard('scrape-secret-123');
    expect(guard.canActivate(contextWith('Bearer scrape-secret-123'))).toBe(true);
    for (const header of [
      undefined,
      'Bearer scrape-secret-12',
      'Bearer scrape-secret-1234',
      'scrape-secret-123',
    ]) {
      expect(() => guard.canActivate(contextWith(header))).toThrow(
        new PrebuildsException(PrebuildsErrorCode.Unauthenticated, 'metrics token required'),
      );
    }
  });
});
