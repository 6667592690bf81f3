/**
 * The prebuilds module's public surface: what a host app imports. Anything not exported here is internal.
 */

// The pure state engine (DESIGN.md, Stable API).
export * from './state/index.js';

// The Nest module and its options.
export { PrebuildsModule } from './prebuilds.module.js';
export type { PrebuildsModuleExtras } from './prebuilds.module-definition.js';
export {
  PREBUILDS_OPTIONS,
  resolvePrebuildsOptions,
  type PrebuildsModuleOptions,
  type ResolvedPrebuildsOptions,
} from './prebuilds.options.js';
export { Clock, SystemClock } from './clock/clock.js';

// The module's schema: its migrations run by the host, into the module's own schema and migrations table.
export {
  runPrebuildsMigrations,
  revertPrebuildsMigration,
  type MigrationTarget,
  type PrebuildsMigrationOptions,
} from './database/run-migrations.js';
export { DEFAULT_PREBUILDS_OWNER_ID, DEFAULT_PREBUILDS_SCHEMA } from './database/prebuilds-namespace.js';

// The catalog: templates, versions and presets under the host's ids.
export { TemplateCatalogService } from './catalog/template-catalog.service.js';
export type * from './catalog/catalog.types.js';
export { PARAMETER_TYPES } from './catalog/catalog.types.js';
export {
  IsName,
  MAX_INSTANCES,
  NAME_MAX_LENGTH,
  ParameterDto,
  PrebuildsDto,
  PresetDto,
  ScheduleDto,
  VersionDto,
  IsStringRecord,
} from './catalog/version.dto.js';

// Services a host may inject.
export { WorkspaceQueryService } from './workspaces/workspace-query.service.js';
export {
  PresetHistoryService,
  type PresetHistoryResponse,
  type PresetHistorySample,
} from './admin/preset-history.service.js';
export type { HistoryWindow } from './database/preset-history.repository.js';
export type { WorkspaceView } from './database/workspace-view.repository.js';
export { ReconcilerService } from './reconciler/reconciler.service.js';
export { ReconcileScheduler } from './reconciler/reconcile-scheduler.service.js';
export type { CycleResult, PresetCycleResult } from './reconciler/cycle-result.js';
// What GET /prebuilds/status and /plan answer, for a host that reads them in-process.
export { PrebuildsStatusService } from './admin/prebuilds-status.service.js';
export type {
  PlanResponse,
  PresetDemand,
  PresetStatus,
  StatusResponse,
} from './admin/prebuilds-status.types.js';
export type { ClaimLatency } from './claim/claim-observer.js';
export {
  WorkspaceBuilderService,
  type BuildRequest,
  type BuildResult,
} from './builder/workspace-builder.service.js';
export { BuildValidationError } from './builder/build-errors.js';
export { PrebuildsPubsub } from './pubsub/prebuilds-pubsub.js';
export { PrebuildsChannel } from './pubsub/channels.js';
export { ProvisionerJobService } from './provisioner/provisioner-job.service.js';
export {
  ProvisionerKeyService,
  type AuthenticatedProvisionerKey,
  type ProvisionerKeyView,
} from './provisioner/provisioner-key.service.js';
export { IS_PREBUILD_TAG, type ProvisionerTags } from './provisioner/provisioner-tags.js';
export { BuildLogService, type BuildLog, type BuildLogLine } from './provisioner/build-log.service.js';
export { PROVISIONER_KEY_HEADER } from './http/provisioner-key.guard.js';
export type {
  AcquiredJob,
  JobCompletion,
  JobOutcome,
  AgentLifecycleReport,
  LeaseRenewal,
  JobFailureKind,
} from './database/provisioner-job.types.js';
export { ProvisionerJobError, type ProvisionerJobErrorCode } from './provisioner/provisioner-job.errors.js';
export {
  ClaimService,
  type CreateWorkspaceRequest,
  type CreateWorkspaceResult,
} from './claim/claim.service.js';
export { PrebuildsException, PrebuildsErrorCode } from './errors/prebuilds.exception.js';
// HTTP: the host authenticates and attaches the subject; the module authorises.
export {
  attachSubject,
  CurrentSubject,
  type PrebuildsSubject,
  type PrebuildsSubjectInput,
} from './rbac/subject.js';
export { RequirePermission } from './rbac/require-permission.decorator.js';
export {
  PREBUILDS_PERMISSIONS,
  type AuthorizeFunction,
  type Permission,
  type PrebuildsAuthorization,
  type PrebuildsPermission,
} from './rbac/permissions.js';
export { PrebuildsController, PrebuildsValidationPipe } from './http/prebuilds-controller.decorator.js';
// Input guardrails (issue 13): NUL, reserved keys and depth, for a host's own routes too.
export { assertPlainInput, MAX_INPUT_DEPTH, RESERVED_KEYS } from './validation/validate-shape.js';
export { parseBearerToken } from './http/bearer-token.js';
export { HostIdParam, UuidParam } from './http/id-param.decorators.js';
export { PrebuildsExceptionFilter } from './http/prebuilds-exception.filter.js';
export { PrebuildsBodyErrorFilter } from './http/prebuilds-body-error.filter.js';
export {
  mapError,
  bodyParserErrorOf,
  isDatabaseUnavailableError,
  type MappedError,
  type PrebuildsErrorBody,
} from './http/error-response.js';
export { PrebuildsMetricsService } from './metrics/prebuilds-metrics.service.js';
export { PrebuildsHealthModule, type PrebuildsHealthModuleOptions } from './health/health.module.js';
export { PrebuildsHealthIndicatorsModule } from './health/health-indicators.module.js';
export { MigrationsHealthIndicator } from './health/migrations.health.js';
export { ReconcilerFreshnessIndicator } from './health/reconciler-freshness.health.js';
export { PrebuildsDatabaseHealthIndicator } from './health/database.health.js';
