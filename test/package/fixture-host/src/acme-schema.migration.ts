import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Acme's own tables, in public, recorded in TypeORM's default `migrations` table. */
export class AcmeSchema1700000000000 implements MigrationInterface {
  name = 'AcmeSchema1700000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, role text NOT NULL)`,
    );
    await q.query(`CREATE TABLE organizations (id bigserial PRIMARY KEY, name text NOT NULL)`);
    await q.query(`CREATE TABLE templates (id bigserial PRIMARY KEY, name text NOT NULL)`);
    await q.query(
      `CREATE TABLE workspaces (id bigserial PRIMARY KEY, owner_id bigint NOT NULL REFERENCES users(id), title text)`,
    );
    await q.query(
      `INSERT INTO users (email, role) VALUES ('ops@acme.test', 'admin'), ('dev@acme.test', 'member')`,
    );
    await q.query(`INSERT INTO workspaces (owner_id, title) VALUES (2, 'laptop')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE workspaces, templates, organizations, users`);
  }
}
