import type { PrebuildsAuthorization } from './rbac/permissions.js';
import { hostname } from 'node:os';
import {
  assertOwnerId,
  assertSchemaName,
  DEFAULT_PREBUILDS_OWNER_ID,
  DEFAULT_PREBUILDS_SCHEMA,
} from './database/prebuilds-namespace.js';

/** What a host passes to PrebuildsModule.forRoot / forRootAsync. Every field is optional. */
export interface PrebuildsModuleOptions {
  /**
   * The PostgreSQL schema holding every table of the module and its migrations table (default `prebuilds`). Must be
   * the schema runPrebuildsMigrations was given.
   */
  schema?: string;
  /**
   * The owner id of unclaimed prebuilds, an id the host never gives a user (default DEFAULT_PREBUILDS_OWNER_ID).
   * Fixed when the schema is first migrated.
   */
  prebuildsOwnerId?: string;
  /**
   * How the module's guard authorises (its routes and any host route using `@RequirePermission`): the host's
   * `{ rolePermissions }` map or `{ authorize(subject, permission) }` function. Default: deny every guarded route.
   */
  authorization?: PrebuildsAuthorization | null;
  /** Run the reconciliation loop in this process (default true). The HTTP routes work either way. */
  enabled?: boolean;
  /** Interval between full cycles (default 60 s). */
  reconcileIntervalMs?: number;
  /** Backoff step per failed prebuild build (default 60 s). */
  backoffIntervalMs?: number;
  /** How far back failed builds count for backoff (default 1 h). */
  backoffLookbackMs?: number;
  /** Consecutive failed prebuild builds that stop a preset's creates (default 3; 0 turns it off). */
  failureHardLimit?: number;
  /** Presets reconciled in parallel within a cycle (default 5). */
  concurrency?: number;
  /** Upper bound on prebuilds created per cycle across all presets (default unbounded). */
  maxCreatesPerCycle?: number;
  /** Rows written per statement when a preset creates many prebuilds (default 500). */
  createBatchSize?: number;
  /** Claim events older than this are deleted by full cycles (default 7 days). */
  eventRetentionMs?: number;
  /** Delay that coalesces NOTIFY-triggered reconciles of one template (default 100 ms). */
  notifyDebounceMs?: number;
  /** How long shutdown waits for the cycle in flight (default 10 s). */
  shutdownTimeoutMs?: number;
  /** A job running longer than this is failed as lost by full cycles (default 30 min; 0 turns it off). */
  jobTimeoutMs?: number;
  /** Names this replica in logs and in the cluster's last-cycle record (default host:pid). */
  replicaId?: string;
  /** When set, GET /metrics requires `Authorization: Bearer <metricsToken>` (default: open). */
  metricsToken?: string | null;
}

export type ResolvedPrebuildsOptions = Required<PrebuildsModuleOptions>;

/** The resolved options (defaults applied, values checked): what services inject. */
export const PREBUILDS_OPTIONS = Symbol('PREBUILDS_OPTIONS');

/** Applies the defaults once; the only place they live. Throws on a value that cannot work. */
export function resolvePrebuildsOptions(options: PrebuildsModuleOptions = {}): ResolvedPrebuildsOptions {
  const resolved: ResolvedPrebuildsOptions = {
    schema: options.schema ?? DEFAULT_PREBUILDS_SCHEMA,
    prebuildsOwnerId: options.prebuildsOwnerId ?? DEFAULT_PREBUILDS_OWNER_ID,
    authorization: options.authorization ?? null,
    enabled: options.enabled ?? true,
    reconcileIntervalMs: options.reconcileIntervalMs ?? 60_000,
    backoffIntervalMs: options.backoffIntervalMs ?? 60_000,
    backoffLookbackMs: options.backoffLookbackMs ?? 3_600_000,
    failureHardLimit: options.failureHardLimit ?? 3,
    concurrency: options.concurrency ?? 5,
    maxCreatesPerCycle: options.maxCreatesPerCycle ?? Number.POSITIVE_INFINITY,
    createBatchSize: options.createBatchSize ?? 500,
    eventRetentionMs: options.eventRetentionMs ?? 7 * 24 * 3_600_000,
    notifyDebounceMs: options.notifyDebounceMs ?? 100,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
    jobTimeoutMs: options.jobTimeoutMs ?? 30 * 60_000,
    replicaId: options.replicaId ?? `${hostname()}:${process.pid}`,
    metricsToken: options.metricsToken ?? null,
  };
  assertSchemaName(resolved.schema);
  assertOwnerId(resolved.prebuildsOwnerId);
  const positive: (keyof ResolvedPrebuildsOptions)[] = [
    'reconcileIntervalMs',
    'concurrency',
    'createBatchSize',
  ];
  for (const key of positive) {
    if (!((resolved[key] as number) > 0)) throw new Error(`PrebuildsModule option ${key} must be > 0`);
  }
  const nonNegative: (keyof ResolvedPrebuildsOptions)[] = [
    'backoffIntervalMs',
    'backoffLookbackMs',
    'failureHardLimit',
    'maxCreatesPerCycle',
    'eventRetentionMs',
    'notifyDebounceMs',
    'shutdownTimeoutMs',
    'jobTimeoutMs',
  ];
  for (const key of nonNegative) {
    if (!((resolved[key] as number) >= 0)) throw new Error(`PrebuildsModule option ${key} must be >= 0`);
  }
  return resolved;
}
