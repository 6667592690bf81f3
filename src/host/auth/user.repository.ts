import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export interface UserWithRoles {
  id: string;
  username: string;
  roles: string[];
}

/** Users and their API tokens, in the host's own tables: all of the host's auth SQL. */
@Injectable()
export class UserRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

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

  /** Looks a token up by its digest (served by the unique index on token_hash). */
  async findByTokenHash(tokenHash: string): Promise<(UserWithRoles & { tokenHash: string }) | null> {
    const [row] = await this.dataSource.query(
      `SELECT u.id, u.username, u.roles, t.token_hash AS "tokenHash"
         FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1`,
      [tokenHash],
    );
    return row ?? null;
  }
}
