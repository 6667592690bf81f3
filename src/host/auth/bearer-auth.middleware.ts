/*
 * How the host installs it: HostModule implements NestModule and, with HostAuthModule imported (for UserRepository),
 *
 *   configure(consumer: MiddlewareConsumer): void {
 *     consumer.apply(BearerAuthMiddleware).forRoutes('*');
 *   }
 *
 * It runs before every guard, so the prebuilds module's RBAC guard finds `request.subject` when the token is valid.
 */
import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import { parseBearerToken } from 'nest-prebuilds';
import { attachSubject, type PrebuildsSubject } from 'nest-prebuilds';
import { digestsEqual, hashApiToken } from './api-token.js';
import { AuthInvalidationService } from './auth-invalidation.service.js';
import { UserRepository } from './user.repository.js';

interface IncomingRequest {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Authenticates `Authorization: Bearer <token>`: the token's SHA-256 digest is looked up, and the subject put on the
 * request. A missing, malformed or unknown token leaves no subject; whether that is allowed is the route's business
 * (the RBAC guard answers 401). The token itself is never logged nor kept: only its digest is.
 */
@Injectable()
export class BearerAuthMiddleware implements NestMiddleware {
  private readonly logger = new Logger(BearerAuthMiddleware.name);

  constructor(
    private readonly users: UserRepository,
    private readonly invalidation: AuthInvalidationService,
  ) {}

  async use(request: IncomingRequest, _response: unknown, next: (error?: unknown) => void): Promise<void> {
    try {
      const token = parseBearerToken(request.headers.authorization);
      const subject = token ? await this.authenticate(token) : undefined;
      if (subject) attachSubject(request, subject);
      next();
    } catch (error) {
      // The database failed: a 500 through Nest's error handling, not a misleading 401.
      next(error);
    }
  }

  private async authenticate(token: string): Promise<PrebuildsSubject | undefined> {
    const tokenHash = hashApiToken(token);
    const cache = this.invalidation.cache;
    const cached = cache.get(tokenHash);
    if (cached) return cached;
    const generation = cache.generation;
    const row = await this.users.findByTokenHash(tokenHash);
    // The unique index finds the row by equality; the constant-time check keeps the final comparison free of
    // timing differences whatever the index or the driver does.
    if (!row || !digestsEqual(row.tokenHash, tokenHash)) {
      this.logger.debug({ msg: 'unknown bearer token', event: 'authentication_failed' });
      return undefined;
    }
    const subject: PrebuildsSubject = { id: row.id, username: row.username, roles: row.roles };
    // A token that expires within the cache's TTL is cached only until it expires.
    const ttlMs = row.expiresAt ? new Date(row.expiresAt).getTime() - Date.now() : Infinity;
    cache.set(tokenHash, subject, ttlMs, generation);
    if (!row.lastUsedAt || Date.now() - new Date(row.lastUsedAt).getTime() >= 60_000) {
      await this.users.touchToken(row.tokenId).catch((error: Error) =>
        this.logger.warn({
          msg: 'last use not recorded',
          event: 'token_touch_failed',
          error: error.message,
        }),
      );
    }
    return subject;
  }
}
