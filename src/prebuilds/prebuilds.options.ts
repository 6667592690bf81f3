import type { PrebuildsAuthorization } from './rbac/permissions.js';
import { CAP_NAMES } from './state/create-caps.js';
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
  /**
   * Caps (DESIGN.md rule 11). Deletes are never capped and go first; a cap only ever holds creates back, and the plan
   * and status name the cap that clamped a preset.
   *
   * A preset's desired count is clamped to this (default 100, Coder's own ceiling); the catalog refuses an
   * `instances` above it with a 400.
   */
  maxInstancesPerPreset?: number;
  /** Prebuilds created per cycle across all presets (default 500, the Kubernetes ReplicaSet controller's burst). */
  maxCreatesPerCycle?: number;
  /**
   * Prebuild start jobs pending or running across the cluster (default 200). A cycle creates no more than the gap to
   * this, so a fleet of provisioners works through a bounded queue instead of one that a big template can fill with
   * tens of thousands of jobs (and the user jobs behind them wait less). 200 is 25 provisioner daemons of 8 jobs each
   * kept busy, well above what a typical cluster runs, and still refills a 500-burst within a few cycles.
   */
  maxInFlightCreates?: number;
  /**
   * Live prebuild workspaces of the whole cluster, failed and stopped ones included (default 5000). Every prebuild
   * holds real capacity (a VM or pod, disks, IPs); 5000 is 50 presets at the per-preset cap, which covers large
   * installations while one mistaken configuration cannot ask a cloud account for a million machines.
   */
  maxPrebuilds?: number;
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
  /** How long a provisioner's hold on a running job lasts without a heartbeat (default 30 s; database time). */
  provisionerLeaseMs?: number;
  /** How often an in-process provisioner renews its lease (default 10 s; well under the lease). */
  provisionerHeartbeatMs?: number;
  /** Acquisitions a job may have: a job whose lease expired this often fails as `provisioner_lost` (default 3). */
  provisionerMaxAttempts?: number;
  /** Lines a build's log keeps (default 10,000, the truncation marker included); later lines are dropped. */
  buildLogMaxLines?: number;
  /** UTF-8 bytes of text a build's log keeps (default 1 MiB); later lines are dropped. */
  buildLogMaxBytes?: number;
  /** `SET LOCAL statement_timeout` of the reconcile transaction, which holds the lock (default 30 s). */
  reconcileStatementTimeoutMs?: number;
  /**
   * `SET LOCAL idle_in_transaction_session_timeout` of the reconcile transaction (default 15 s): a frozen lock holder
   * loses its session, and so the lock, within this bound. A live holder keeps it by pinging while its actions run.
   */
  reconcileIdleTimeoutMs?: number;
  /** Names this replica in logs and in the cluster's last-cycle record (default host:pid). */
  replicaId?: string;
  /** When set, GET /metrics requires `Authorization: Bearer <metricsToken>` (default: open). */
  metricsToken?: string | null;
  /**
   * Connections of the claims' own pool (default 8), outside the DataSource's: concurrent claims queue in Node for
   * one of them rather than crowd PostgreSQL with a backend each, and the queued claims of one preset then leave
   * together, in one statement and one commit (ClaimBatcher).
   */
  claimPoolSize?: number;
  /**
   * How long wake-ups (job posted, workspace claimed) and claim events wait to leave together in one transaction
   * (default 20 ms); 0 sends each at once.
   */
  notifyFlushMs?: number;
  /**
   * `work_mem` (MB) of the reconcile snapshot's read-only transaction (default 32; 0 keeps the server's): enough for
   * its hash joins over a million prebuilds to stay in memory. Per hash node and parallel worker, for one cycle.
   */
  snapshotWorkMemMb?: number;
}

/** The caps' defaults (rule 11), applied by resolvePrebuildsOptions only. */
export const DEFAULT_CAPS = Object.freeze({
  maxInstancesPerPreset: 100,
  maxCreatesPerCycle: 500,
  maxInFlightCreates: 200,
  maxPrebuilds: 5000,
});

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
    maxInstancesPerPreset: options.maxInstancesPerPreset ?? DEFAULT_CAPS.maxInstancesPerPreset,
    maxCreatesPerCycle: options.maxCreatesPerCycle ?? DEFAULT_CAPS.maxCreatesPerCycle,
    maxInFlightCreates: options.maxInFlightCreates ?? DEFAULT_CAPS.maxInFlightCreates,
    maxPrebuilds: options.maxPrebuilds ?? DEFAULT_CAPS.maxPrebuilds,
    createBatchSize: options.createBatchSize ?? 500,
    eventRetentionMs: options.eventRetentionMs ?? 7 * 24 * 3_600_000,
    notifyDebounceMs: options.notifyDebounceMs ?? 100,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
    jobTimeoutMs: options.jobTimeoutMs ?? 30 * 60_000,
    provisionerLeaseMs: options.provisionerLeaseMs ?? 30_000,
    provisionerHeartbeatMs: options.provisionerHeartbeatMs ?? 10_000,
    provisionerMaxAttempts: options.provisionerMaxAttempts ?? 3,
    buildLogMaxLines: options.buildLogMaxLines ?? 10_000,
    buildLogMaxBytes: options.buildLogMaxBytes ?? 1024 * 1024,
    reconcileStatementTimeoutMs: options.reconcileStatementTimeoutMs ?? 30_000,
    reconcileIdleTimeoutMs: options.reconcileIdleTimeoutMs ?? 15_000,
    replicaId: options.replicaId ?? `${hostname()}:${process.pid}`,
    metricsToken: options.metricsToken ?? null,
    claimPoolSize: options.claimPoolSize ?? 8,
    notifyFlushMs: options.notifyFlushMs ?? 20,
    snapshotWorkMemMb: options.snapshotWorkMemMb ?? 32,
  };
  assertSchemaName(resolved.schema);
  assertOwnerId(resolved.prebuildsOwnerId);
  const positive: (keyof ResolvedPrebuildsOptions)[] = [
    'reconcileIntervalMs',
    'concurrency',
    'createBatchSize',
    'provisionerLeaseMs',
    'provisionerHeartbeatMs',
    'provisionerMaxAttempts',
    'buildLogMaxLines',
    'buildLogMaxBytes',
    'reconcileStatementTimeoutMs',
    'reconcileIdleTimeoutMs',
    'claimPoolSize',
  ];
  for (const key of positive) {
    if (!((resolved[key] as number) > 0)) throw new Error(`PrebuildsModule option ${key} must be > 0`);
  }
  const nonNegative: (keyof ResolvedPrebuildsOptions)[] = [
    'backoffIntervalMs',
    'backoffLookbackMs',
    'failureHardLimit',
    'maxInstancesPerPreset',
    'maxCreatesPerCycle',
    'maxInFlightCreates',
    'maxPrebuilds',
    'eventRetentionMs',
    'notifyDebounceMs',
    'shutdownTimeoutMs',
    'jobTimeoutMs',
    'notifyFlushMs',
    'snapshotWorkMemMb',
  ];
  for (const key of nonNegative) {
    if (!((resolved[key] as number) >= 0)) throw new Error(`PrebuildsModule option ${key} must be >= 0`);
  }
  for (const key of CAP_NAMES) {
    // A cap is a count; Infinity (no cap) is allowed for a host that knows what it does.
    const value = resolved[key];
    if (!Number.isInteger(value) && value !== Number.POSITIVE_INFINITY)
      throw new Error(`PrebuildsModule option ${key} must be an integer`);
  }
  if (!Number.isInteger(resolved.claimPoolSize))
    throw new Error('PrebuildsModule option claimPoolSize must be an integer');
  if (resolved.provisionerHeartbeatMs >= resolved.provisionerLeaseMs) {
    throw new Error('PrebuildsModule option provisionerHeartbeatMs must be < provisionerLeaseMs');
  }
  return resolved;
}
