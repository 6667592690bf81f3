/**
 * Every PostgreSQL advisory lock this module takes, in one place. Locks use the two-key form (namespace, key): the
 * namespace is derived from the module's schema (PrebuildsNamespace.lockNamespace), so they collide neither with a
 * host's own single-key locks nor with a second prebuilds module mounted on another schema of the same database.
 */
export enum PrebuildsLock {
  /** Held (transaction-scoped) for a whole reconciliation cycle: one reconciler across all replicas. */
  Reconcile = 1,
  /** Held (session-scoped) while migrations run, so that replicas starting together migrate once. */
  Migrations = 2,
  /**
   * Held (transaction-scoped) by a workspace create that enforces a quota, one lock per owner, so that one user's
   * concurrent creates count their live workspaces one after another. Its keys are
   * (lockNamespace XOR WorkspaceQuota, hashtext(ownerId)): the first key keeps the per-owner keys out of the
   * fixed keys above.
   */
  WorkspaceQuota = 3,
}
