import { type CanActivate, type ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { parseBearerToken } from './bearer-token.js';

/** Provider token: the bearer token `/metrics` requires, or null (the default) for an open endpoint. */
export const PREBUILDS_METRICS_TOKEN = Symbol('PREBUILDS_METRICS_TOKEN');

/**
 * Protects `/metrics` with a static token when one is configured. Scrapers hold no user token, so this is not RBAC.
 * Both sides are hashed before the constant-time compare, which needs equal lengths and must not leak the token's.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Optional() @Inject(PREBUILDS_METRICS_TOKEN) token?: string | null) {
    this.expected = token ? digest(token) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const token = parseBearerToken(request.headers.authorization);
    if (token && timingSafeEqual(digest(token), this.expected)) return true;
    throw new PrebuildsException(PrebuildsErrorCode.Unauthenticated, 'metrics token required');
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
