import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { ProvisionerKeyRepository, type ProvisionerKeyRow } from '../database/provisioner-key.repository.js';
import { assertProvisionerTags, type ProvisionerTags } from './provisioner-tags.js';

/** A key as the API shows it. */
export interface ProvisionerKeyView {
  id: string;
  name: string;
  tags: ProvisionerTags;
  createdAt: string;
  revokedAt: string | null;
}

/** The key a daemon authenticates with (`id`, `name`, `tags`). */
export interface AuthenticatedProvisionerKey {
  id: string;
  name: string;
  tags: ProvisionerTags;
}

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** `pbk_<first 8 hex digits of the key id>_<43 base64url characters: 32 random bytes>`. */
const KEY_FORMAT = /^pbk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

function sha256(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function viewOf(row: ProvisionerKeyRow): ProvisionerKeyView {
  return {
    id: row.id,
    name: row.name,
    tags: row.tags,
    createdAt: new Date(row.createdAt).toISOString(),
    revokedAt: row.revokedAt ? new Date(row.revokedAt).toISOString() : null,
  };
}

/**
 * Provisioner keys: created by an operator (the key shown once), listed, revoked. Only the SHA-256 of the key's
 * random secret is stored. Every authentication reads the database (one unique-index lookup, no cache), so a revoked
 * key is refused by every replica from the next call on.
 */
@Injectable()
export class ProvisionerKeyService {
  private readonly logger = new PrebuildsLogger(ProvisionerKeyService.name);

  constructor(private readonly keys: ProvisionerKeyRepository) {}

  async create(name: unknown, tags: unknown = {}): Promise<ProvisionerKeyView & { key: string }> {
    if (typeof name !== 'string' || !KEY_NAME.test(name)) {
      throw new PrebuildsException(
        PrebuildsErrorCode.ValidationFailed,
        'name must be 1-64 of A-Z a-z 0-9 _ . - (a letter or digit first)',
      );
    }
    assertProvisionerTags(tags, 'tags', 'boolean');
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    const row = await this.keys.insert(id, name, sha256(secret), tags);
    if (!row) {
      throw new PrebuildsException(
        PrebuildsErrorCode.NameTaken,
        `name: a provisioner key named '${name}' exists`,
      );
    }
    this.logger.log({
      msg: 'provisioner key created',
      event: 'provisioner_key_created',
      keyId: id,
      name,
      tags,
    });
    return { ...viewOf(row), key: `pbk_${id.replaceAll('-', '').slice(0, 8)}_${secret}` };
  }

  async list(): Promise<ProvisionerKeyView[]> {
    return (await this.keys.list()).map(viewOf);
  }

  /** Revokes a key; revoking it again is a no-op. 404 for an unknown key. */
  async revoke(id: string): Promise<ProvisionerKeyView> {
    const row = await this.keys.revoke(id);
    if (!row) {
      throw new PrebuildsException(
        PrebuildsErrorCode.ProvisionerKeyNotFound,
        `provisioner key ${id} not found`,
      );
    }
    this.logger.log({
      msg: 'provisioner key revoked',
      event: 'provisioner_key_revoked',
      keyId: id,
      name: row.name,
    });
    return viewOf(row);
  }

  /** The live key a daemon presents; 401 PROVISIONER_KEY_INVALID for a missing, malformed, unknown or revoked one. */
  async authenticate(presented: unknown): Promise<AuthenticatedProvisionerKey> {
    const match = typeof presented === 'string' ? KEY_FORMAT.exec(presented.trim()) : null;
    const refuse = () =>
      new PrebuildsException(
        PrebuildsErrorCode.ProvisionerKeyInvalid,
        'header Prebuilds-Provisioner-Key: missing, malformed, unknown or revoked provisioner key',
      );
    if (!match) throw refuse();
    const [, idPrefix, secret] = match;
    const digest = sha256(secret);
    const row = await this.keys.findLiveByHash(digest);
    // The unique index finds the row by equality; the constant-time check keeps the final comparison free of timing
    // differences, and the id prefix ties the secret to its key.
    if (
      !row ||
      !timingSafeEqual(Buffer.from(row.secretHash, 'hex'), Buffer.from(digest, 'hex')) ||
      !row.id.replaceAll('-', '').startsWith(idPrefix)
    ) {
      this.logger.debug({ msg: 'provisioner key refused', event: 'provisioner_key_refused' });
      throw refuse();
    }
    return { id: row.id, name: row.name, tags: row.tags };
  }
}
