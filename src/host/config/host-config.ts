import type { PrebuildsModuleOptions } from 'nest-prebuilds';
import { ConfigError } from './config-error.js';

/** Everything the host app reads from the environment, parsed and checked once at start. */
export interface HostConfig {
  port: number;
  /** The address the HTTP server binds (HOST): 0.0.0.0 (every interface) unless set, e.g. 127.0.0.1. */
  host: string;
  /** Serve the OpenAPI UI and document at /docs and /docs-json (DOCS_ENABLED). */
  docsEnabled: boolean;
  /** Live workspaces a non-owner may own (WORKSPACE_QUOTA); 0 turns the quota off. Owners are exempt. */
  workspaceQuota: number;
  /** null → an embedded PostgreSQL under dataDir. */
  databaseUrl: string | null;
  dataDir: string;
  embeddedPgPort: number;
  bootstrapAdminToken: string | null;
  seedDemo: boolean;
  logLevel: string;
  /** Human-readable log lines (pino-pretty): on when stdout is a terminal, unless LOG_FORMAT says otherwise. */
  prettyLogs: boolean;
  provisioner: { enabled: boolean; buildMs: number; failureRate: number; concurrency: number };
  /** Only what the environment sets: the module applies its own defaults to the rest (prebuilds.options.ts). */
  prebuilds: PrebuildsModuleOptions;
}

type Env = Record<string, string | undefined>;

export function loadHostConfig(env: Env = process.env): HostConfig {
  const read = new EnvReader(env);
  return {
    port: read.int('PORT', 3000, 0, 65535),
    host: read.bindAddress('HOST', '0.0.0.0'),
    docsEnabled: read.bool('DOCS_ENABLED', true),
    workspaceQuota: read.int('WORKSPACE_QUOTA', 10, 0, 100_000),
    databaseUrl: read.databaseUrl('DATABASE_URL'),
    dataDir: env.DATA_DIR?.trim() || '.data',
    embeddedPgPort: read.int('EMBEDDED_PG_PORT', 54329, 1, 65535),
    bootstrapAdminToken: read.token('BOOTSTRAP_ADMIN_TOKEN'),
    seedDemo: read.bool('SEED_DEMO', true),
    logLevel: read.oneOf('LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    prettyLogs:
      read.oneOf('LOG_FORMAT', process.stdout.isTTY ? 'pretty' : 'json', ['pretty', 'json']) === 'pretty',
    provisioner: {
      enabled: read.bool('PROVISIONER_ENABLED', true),
      buildMs: read.int('PROVISIONER_BUILD_MS', 2000, 0, 3_600_000),
      failureRate: read.float('PROVISIONER_FAILURE_RATE', 0, 0, 1),
      concurrency: read.int('PROVISIONER_CONCURRENCY', 8, 1, 1000),
    },
    prebuilds: definedOnly({
      enabled: read.bool('PREBUILDS_ENABLED', undefined),
      reconcileIntervalMs: read.int('PREBUILDS_INTERVAL_MS', undefined, 100, 86_400_000),
      backoffIntervalMs: read.int('PREBUILDS_BACKOFF_INTERVAL_MS', undefined, 0, 86_400_000),
      backoffLookbackMs: read.int('PREBUILDS_BACKOFF_LOOKBACK_MS', undefined, 0, 30 * 86_400_000),
      failureHardLimit: read.int('PREBUILDS_FAILURE_HARD_LIMIT', undefined, 0, 1000),
      concurrency: read.int('PREBUILDS_CONCURRENCY', undefined, 1, 100),
      maxInstancesPerPreset: read.int('PREBUILDS_MAX_INSTANCES_PER_PRESET', undefined, 0, 1000),
      maxCreatesPerCycle: read.int('PREBUILDS_MAX_CREATES_PER_CYCLE', undefined, 0, 1_000_000),
      maxInFlightCreates: read.int('PREBUILDS_MAX_IN_FLIGHT_CREATES', undefined, 0, 1_000_000),
      maxPrebuilds: read.int('PREBUILDS_MAX_PREBUILDS', undefined, 0, 10_000_000),
      jobTimeoutMs: read.int('PREBUILDS_JOB_TIMEOUT_MS', undefined, 0, 7 * 86_400_000),
      provisionerLeaseMs: read.int('PROVISIONER_LEASE_MS', undefined, 100, 3_600_000),
      provisionerHeartbeatMs: read.int('PROVISIONER_HEARTBEAT_MS', undefined, 50, 3_600_000),
      provisionerMaxAttempts: read.int('PROVISIONER_MAX_ATTEMPTS', undefined, 1, 100),
      buildLogMaxLines: read.int('BUILD_LOG_MAX_LINES', undefined, 2, 1_000_000),
      buildLogMaxBytes: read.int('BUILD_LOG_MAX_BYTES', undefined, 1024, 1024 * 1024 * 1024),
      reconcileStatementTimeoutMs: read.int('PREBUILDS_LOCK_STATEMENT_TIMEOUT_MS', undefined, 100, 3_600_000),
      reconcileIdleTimeoutMs: read.int('PREBUILDS_LOCK_IDLE_TIMEOUT_MS', undefined, 100, 3_600_000),
      metricsToken: env.METRICS_TOKEN?.trim() || undefined,
    }),
  };
}

/** Drops the keys the environment left unset, so that the module's defaults apply to them. */
function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

class EnvReader {
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  int<F extends number | undefined>(name: string, fallback: F, min: number, max: number): number | F {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got '${value}'`);
    }
    return parsed;
  }

  float(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
      throw new ConfigError(`${name} must be a number from ${min} to ${max}, got '${value}'`);
    }
    return parsed;
  }

  bool<F extends boolean | undefined>(name: string, fallback: F): boolean | F {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    throw new ConfigError(`${name} must be true or false, got '${value}'`);
  }

  oneOf(name: string, fallback: string, allowed: string[]): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!allowed.includes(value))
      throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got '${value}'`);
    return value;
  }

  /** An IPv4/IPv6 address or a host name to listen on; no ports, schemes or spaces. */
  bindAddress(name: string, fallback: string): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^(?:[A-Za-z0-9.-]{1,253}|[0-9A-Fa-f:.]{2,45})$/.test(value)) {
      throw new ConfigError(
        `${name} must be an address to listen on, such as 127.0.0.1 or ::, got '${value}'`,
      );
    }
    return value;
  }

  token(name: string): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    if (value.length < 16) throw new ConfigError(`${name} must be at least 16 characters long`);
    return value;
  }

  databaseUrl(name: string): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(`${name} is not a valid URL (expected postgres://user@host:port/database)`);
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new ConfigError(`${name} must start with postgres:// or postgresql://, got '${url.protocol}//'`);
    }
    if (!url.hostname) throw new ConfigError(`${name} has no host`);
    return value;
  }
}
