import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

/** A provisioner key as it may be shown: never its secret nor the secret's digest. */
export interface ProvisionerKeyRow {
  id: string;
  name: string;
  tags: Record<string, string>;
  createdAt: Date;
  revokedAt: Date | null;
}

/** A live key found by its digest, with the digest for the final constant-time comparison. */
export interface LiveProvisionerKey extends ProvisionerKeyRow {
  secretHash: string;
}

const COLUMNS = `id, name, tags, created_at AS "createdAt", revoked_at AS "revokedAt"`;

/** Provisioner keys: written by operators, looked up on every call of a daemon. */
@Injectable()
export class ProvisionerKeyRepository {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  /** Null when a live key already has the name (uq_provisioner_keys_name). */
  async insert(
    id: string,
    name: string,
    secretHash: string,
    tags: Record<string, string>,
  ): Promise<ProvisionerKeyRow | null> {
    const rows: ProvisionerKeyRow[] = await this.dataSource.query(
      `INSERT INTO ${this.ns.schema}.provisioner_keys (id, name, secret_hash, tags)
       VALUES ($1, $2, $3, $4::jsonb)
       ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING
       RETURNING ${COLUMNS}`,
      [id, name, secretHash, JSON.stringify(tags)],
    );
    return rows[0] ?? null;
  }

  /** Every key, live ones first, newest first. Index: none needed (an operator's listing of a small table). */
  async list(): Promise<ProvisionerKeyRow[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM ${this.ns.schema}.provisioner_keys
        ORDER BY revoked_at IS NOT NULL, created_at DESC, id`,
    );
  }

  /** The live key with this digest. Index: uq_provisioner_keys_secret. */
  async findLiveByHash(secretHash: string): Promise<LiveProvisionerKey | null> {
    const [row] = await this.dataSource.query(
      `SELECT ${COLUMNS}, secret_hash AS "secretHash" FROM ${this.ns.schema}.provisioner_keys
        WHERE secret_hash = $1 AND revoked_at IS NULL`,
      [secretHash],
    );
    return row ?? null;
  }

  /** Whether the key is still live (re-checked while a long poll waits). Index: provisioner_keys primary key. */
  async isLive(id: string): Promise<boolean> {
    const rows = await this.dataSource.query(
      `SELECT 1 FROM ${this.ns.schema}.provisioner_keys WHERE id = $1 AND revoked_at IS NULL`,
      [id],
    );
    return rows.length > 0;
  }

  /**
   * Revokes a key (the first revocation's time is kept). Null for an unknown key. Index: provisioner_keys primary
   * key.
   */
  async revoke(id: string): Promise<ProvisionerKeyRow | null> {
    const [rows]: [ProvisionerKeyRow[], number] = await this.dataSource.query(
      `UPDATE ${this.ns.schema}.provisioner_keys SET revoked_at = COALESCE(revoked_at, now())
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0] ?? null;
  }
}
