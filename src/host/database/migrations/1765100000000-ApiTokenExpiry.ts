import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Token lifecycle: an optional expiry per API token (NULL: never expires), and an index for listing a user's
 * tokens. An expired token authenticates nobody; its row stays until its user revokes it or is removed.
 */
export class ApiTokenExpiry1765100000000 implements MigrationInterface {
  name = 'ApiTokenExpiry1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz`);
    await q.query(`CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX api_tokens_user_id_idx`);
    await q.query(`ALTER TABLE api_tokens DROP COLUMN expires_at`);
  }
}
