import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The host app's own identity tables (the prebuilds module has none): users with roles, and API tokens stored only
 * as their SHA-256 digest. They live in the host's schema (`public`) and its TypeORM `migrations` table, beside the
 * module's `prebuilds` schema, as any control plane's own tables would.
 */
export class HostIdentity1764900000000 implements MigrationInterface {
  name = 'HostIdentity1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username text NOT NULL UNIQUE,
        roles text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Lookups go through the unique index on the digest.
    await q.query(`
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_tokens`);
    await q.query(`DROP TABLE users`);
  }
}
