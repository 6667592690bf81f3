/**
 * The prebuilds module's public surface: what a host app imports. Anything not exported here is internal.
 */

// The pure state engine (DESIGN.md, Stable API).
export * from './state/index.js';

// The Nest module and its options.
export { PrebuildsModule } from './prebuilds.module.js';
export {
  PREBUILDS_OPTIONS,
  resolvePrebuildsOptions,
  type PrebuildsModuleOptions,
  type ResolvedPrebuildsOptions,
} from './prebuilds.options.js';
export { Clock, SystemClock } from './clock/clock.js';

// Schema, for the host's DataSource and migrations.
export { PREBUILDS_ENTITIES } from './database/entities/index.js';
export { PREBUILDS_MIGRATIONS } from './database/migrations/index.js';
export { prebuildsDataSourceOptions } from './database/data-source-options.js';
export { runPrebuildsMigrations } from './database/run-migrations.js';
export { PREBUILDS_SYSTEM_USER_ID, DEFAULT_ORGANIZATION_ID } from './database/system-ids.js';

// Services a host may inject.
export { ReconcilerService } from './reconciler/reconciler.service.js';
export { ReconcileScheduler } from './reconciler/reconcile-scheduler.service.js';
export type { CycleResult, PresetCycleResult } from './reconciler/cycle-result.js';
export {
  WorkspaceBuilderService,
  type BuildRequest,
  type BuildResult,
} from './builder/workspace-builder.service.js';
export { BuildValidationError } from './builder/build-errors.js';
export { PrebuildsPubsub } from './pubsub/prebuilds-pubsub.js';
export { PrebuildsChannel } from './pubsub/channels.js';
export { ProvisionerJobService } from './provisioner/provisioner-job.service.js';
export type { AcquiredJob, JobOutcome, AgentLifecycleReport } from './provisioner/provisioner-job.types.js';
export { ProvisionerJobError } from './provisioner/provisioner-job.errors.js';
export {
  ClaimService,
  type CreateWorkspaceRequest,
  type CreateWorkspaceResult,
} from './claim/claim.service.js';
export { PrebuildsException, PrebuildsErrorCode } from './errors/prebuilds.exception.js';
// HTTP: the host authenticates and attaches the subject; the module authorises.
export { attachSubject, CurrentSubject, type PrebuildsSubject } from './rbac/subject.js';
export { RequirePermission } from './rbac/require-permission.decorator.js';
export { ROLE_PERMISSIONS, permissionsOf, type Permission, type Role } from './rbac/permissions.js';
export { PrebuildsController } from './http/prebuilds-controller.decorator.js';
export { PrebuildsExceptionFilter } from './http/prebuilds-exception.filter.js';
export { PrebuildsBodyErrorFilter } from './http/prebuilds-body-error.filter.js';
export { PrebuildsMetricsService } from './metrics/prebuilds-metrics.service.js';
export { PrebuildsHealthModule } from './health/health.module.js';
