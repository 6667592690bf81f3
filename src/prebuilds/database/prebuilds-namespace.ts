/** The schema every table of the module lives in unless the host names another. */
export const DEFAULT_PREBUILDS_SCHEMA = 'prebuilds';

/**
 * The owner id of every unclaimed prebuild unless the host names another (Coder's prebuilds user id, so that ids
 * read the same in both systems). The host must never give one of its own users this id.
 */
export const DEFAULT_PREBUILDS_OWNER_ID = 'c42fdf75-3097-471c-8c33-fb52454d81c0';

// Lower-case so that the name never needs quoting in a host's own SQL; short so that channel names stay under
// PostgreSQL's 63-byte identifier limit.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;

/** Throws when `schema` cannot be this module's schema name. */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(
      `prebuilds schema "${schema}" must be 1-40 characters of a-z, 0-9 and _, starting with a letter or _`,
    );
  }
  if (schema.startsWith('pg_') || schema === 'public' || schema === 'information_schema') {
    throw new Error(`prebuilds schema "${schema}" is reserved; choose a schema of the module's own`);
  }
}

/** Throws when `ownerId` cannot be the prebuilds owner id. */
export function assertOwnerId(ownerId: string): void {
  if (ownerId.length === 0 || ownerId.length > 200 || ownerId.includes('\u0000')) {
    throw new Error('prebuildsOwnerId must be 1-200 characters without NUL');
  }
}

/** 32-bit FNV-1a: a stable advisory-lock namespace per schema, so two mounted modules never share a lock. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/**
 * The module's names in SQL, fixed when it starts: its schema (every statement names it, so the host's
 * `search_path` is never involved), the prebuilds owner as a SQL literal (partial indexes and the snapshot
 * filter on it without a bind parameter), the advisory-lock namespace and the NOTIFY channel prefix.
 */
export class PrebuildsNamespace {
  /** The schema as a quoted identifier, for SQL: `"prebuilds"`. */
  readonly schema: string;
  /** The prebuilds owner id as a quoted SQL literal: `'c42f…'`. */
  readonly owner: string;
  /** First key of every advisory lock the module takes. */
  readonly lockNamespace: number;

  constructor(
    readonly schemaName: string = DEFAULT_PREBUILDS_SCHEMA,
    readonly ownerId: string = DEFAULT_PREBUILDS_OWNER_ID,
  ) {
    assertSchemaName(schemaName);
    assertOwnerId(ownerId);
    this.schema = `"${schemaName}"`;
    this.owner = `'${ownerId.replaceAll("'", "''")}'`;
    this.lockNamespace = fnv1a32(`prebuilds:${schemaName}`);
  }

  /** The PostgreSQL channel for one of the module's logical channels; schemas never hear each other. */
  channel(name: string): string {
    return `${this.schemaName}_${name}`;
  }
}
