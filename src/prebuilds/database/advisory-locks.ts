/**
 * Every PostgreSQL advisory lock this module takes, in one place. Locks use the two-key form
 * (namespace, key) so that they cannot collide with a host app's own single-key locks.
 */
export const PREBUILDS_LOCK_NAMESPACE = 0x70726562; // 'preb'

export enum PrebuildsLock {
  /** Held (transaction-scoped) for a whole reconciliation cycle: one reconciler across all replicas. */
  Reconcile = 1,
  /** Held (session-scoped) while migrations run, so that replicas starting together migrate once. */
  Migrations = 2,
}
