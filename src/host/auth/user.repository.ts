import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { HOST_LOCK_NAMESPACE, HOST_OWNERS_LOCK } from '../database/host-data-source.js';
import { AuthInvalidationService } from './auth-invalidation.service.js';

export interface UserWithRoles {
  id: string;
  username: string;
  roles: string[];
}

export interface AuthenticatedToken extends UserWithRoles {
  tokenId: string;
  tokenHash: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

export interface TokenInfo {
  id: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
}

/** What a change of a user's roles or a removal came to. */
export type UserChange<T> =
  { outcome: 'done'; value: T } | { outcome: 'not_found' } | { outcome: 'last_owner' };

/** At most this many tokens per user, so that one user cannot fill the table. */
export const MAX_TOKENS_PER_USER = 50;

/** last_used_at is written at most this often per token: a burst of requests costs no write each. */
const LAST_USED_GRANULARITY = '1 minute';

const TOKEN_COLUMNS = `id, created_at AS "createdAt", last_used_at AS "lastUsedAt", expires_at AS "expiresAt"`;

/** Users and their API tokens, in the host's own tables: all of the host's auth SQL. */
@Injectable()
export class UserRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly invalidation: AuthInvalidationService,
  ) {}

  async ownerExists(): Promise<boolean> {
    const rows = await this.dataSource.query(`SELECT 1 FROM users WHERE 'owner' = ANY(roles) LIMIT 1`);
    return rows.length > 0;
  }

  /** Creates a user and its first token hash in one transaction; null when the username is taken. */
  async createWithToken(username: string, roles: string[], tokenHash: string): Promise<UserWithRoles | null> {
    return this.dataSource.transaction(async (manager: EntityManager) => {
      const [user] = await manager.query(
        `INSERT INTO users (username, roles) VALUES ($1, $2)
         ON CONFLICT (username) DO NOTHING
         RETURNING id, username, roles`,
        [username, roles],
      );
      if (!user) return null;
      await manager.query(`INSERT INTO api_tokens (user_id, token_hash) VALUES ($1, $2)`, [
        user.id,
        tokenHash,
      ]);
      return user as UserWithRoles;
    });
  }

  /** Looks an unexpired token up by its digest (served by the unique index on token_hash). */
  async findByTokenHash(tokenHash: string): Promise<AuthenticatedToken | null> {
    const [row] = await this.dataSource.query(
      `SELECT u.id, u.username, u.roles, t.id AS "tokenId", t.token_hash AS "tokenHash",
              t.expires_at AS "expiresAt", t.last_used_at AS "lastUsedAt"
         FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > now())`,
      [tokenHash],
    );
    return row ?? null;
  }

  /** Records a token's use, at most once per LAST_USED_GRANULARITY. */
  async touchToken(tokenId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE api_tokens SET last_used_at = now()
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '${LAST_USED_GRANULARITY}')`,
      [tokenId],
    );
  }

  async listTokens(userId: string): Promise<TokenInfo[]> {
    return this.dataSource.query(
      `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id`,
      [userId],
    );
  }

  /**
   * A new token of an existing user; null when the user has MAX_TOKENS_PER_USER already (or no longer exists). The
   * user's row lock serialises one user's concurrent creates, so the cap holds.
   */
  async createToken(
    userId: string,
    tokenHash: string,
    expiresInSeconds: number | null,
  ): Promise<TokenInfo | 'limit' | null> {
    return this.dataSource.transaction(async (manager) => {
      const [user] = await manager.query(`SELECT id FROM users WHERE id = $1 FOR UPDATE`, [userId]);
      if (!user) return null;
      const [{ n }] = await manager.query(`SELECT count(*)::int AS n FROM api_tokens WHERE user_id = $1`, [
        userId,
      ]);
      if (n >= MAX_TOKENS_PER_USER) return 'limit';
      const [token] = await manager.query(
        `INSERT INTO api_tokens (user_id, token_hash, expires_at)
         VALUES ($1, $2, CASE WHEN $3::int IS NULL THEN NULL ELSE now() + make_interval(secs => $3::int) END)
         RETURNING ${TOKEN_COLUMNS}`,
        [userId, tokenHash, expiresInSeconds],
      );
      return token as TokenInfo;
    });
  }

  /** Deletes one of the user's tokens; false when the user has no such token. Every replica forgets it at commit. */
  async revokeToken(userId: string, tokenId: string): Promise<boolean> {
    const revoked = await this.dataSource.transaction(async (manager) => {
      // UPDATE and DELETE answer [rows, count] through TypeORM's postgres driver.
      const [rows] = await manager.query(
        `DELETE FROM api_tokens WHERE id = $1 AND user_id = $2 RETURNING id`,
        [tokenId, userId],
      );
      if ((rows as unknown[]).length === 0) return false;
      await this.invalidation.publish(manager, userId);
      return true;
    });
    if (revoked) this.invalidation.invalidateUser(userId);
    return revoked;
  }

  /** Replaces a user's roles; refuses to take `owner` from the last owner. */
  async setRoles(userId: string, roles: string[]): Promise<UserChange<UserWithRoles>> {
    const change = await this.underOwnersLock(async (manager): Promise<UserChange<UserWithRoles>> => {
      const [user] = await manager.query(`SELECT id, roles FROM users WHERE id = $1 FOR UPDATE`, [userId]);
      if (!user) return { outcome: 'not_found' };
      if ((user.roles as string[]).includes('owner') && !roles.includes('owner')) {
        if ((await this.otherOwners(manager, userId)) === 0) return { outcome: 'last_owner' };
      }
      const [updated] = await manager.query(
        `UPDATE users SET roles = $2 WHERE id = $1 RETURNING id, username, roles`,
        [userId, roles],
      );
      await this.invalidation.publish(manager, userId);
      return { outcome: 'done', value: (updated as UserWithRoles[])[0] };
    });
    if (change.outcome === 'done') this.invalidation.invalidateUser(userId);
    return change;
  }

  /** Removes a user and (by cascade) its tokens; refuses to remove the last owner. */
  async removeUser(userId: string): Promise<UserChange<void>> {
    const change = await this.underOwnersLock(async (manager): Promise<UserChange<void>> => {
      const [user] = await manager.query(`SELECT id, roles FROM users WHERE id = $1 FOR UPDATE`, [userId]);
      if (!user) return { outcome: 'not_found' };
      if ((user.roles as string[]).includes('owner') && (await this.otherOwners(manager, userId)) === 0) {
        return { outcome: 'last_owner' };
      }
      await manager.query(`DELETE FROM users WHERE id = $1`, [userId]);
      await this.invalidation.publish(manager, userId);
      return { outcome: 'done', value: undefined };
    });
    if (change.outcome === 'done') this.invalidation.invalidateUser(userId);
    return change;
  }

  /** One role change or removal at a time, cluster-wide, so that two owners demoting each other leave one. */
  private underOwnersLock<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock($1, $2)`, [HOST_LOCK_NAMESPACE, HOST_OWNERS_LOCK]);
      return work(manager);
    });
  }

  private async otherOwners(manager: EntityManager, userId: string): Promise<number> {
    const [{ n }] = await manager.query(
      `SELECT count(*)::int AS n FROM users WHERE 'owner' = ANY(roles) AND id <> $1`,
      [userId],
    );
    return n;
  }
}
