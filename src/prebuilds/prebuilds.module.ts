import type { DataSource } from 'typeorm';
import { PREBUILDS_DATA_SOURCE } from './database/prebuilds-data-source.js';
import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { PrebuildsAdminService } from './admin/prebuilds-admin.service.js';
import { PrebuildsStatusService } from './admin/prebuilds-status.service.js';
import { PresetHistoryService } from './admin/preset-history.service.js';
import { TemplateCatalogService } from './catalog/template-catalog.service.js';
import { CatalogRepository } from './database/catalog.repository.js';
import { WorkspaceViewRepository } from './database/workspace-view.repository.js';
import { WorkspaceQueryService } from './workspaces/workspace-query.service.js';
import { PrebuildCreatorService } from './builder/prebuild-creator.service.js';
import { WorkspaceBuilderService } from './builder/workspace-builder.service.js';
import { ClaimObserver } from './claim/claim-observer.js';
import { JobMetricsObserver } from './metrics/job-metrics.observer.js';
import { JobObserver } from './provisioner/job-observer.js';
import { ReconcileMetricsObserver } from './metrics/reconcile-metrics.observer.js';
import { ReconcileObserver } from './reconciler/reconcile-observer.js';
import { ClaimMetricsObserver } from './metrics/claim-metrics.observer.js';
import { PREBUILDS_METRICS_TOKEN } from './http/metrics-token.guard.js';
import { authorizerOf } from './rbac/permissions.js';
import { PREBUILDS_AUTHORIZER } from './rbac/prebuilds-rbac.guard.js';
import { PrebuildsMetricsService } from './metrics/prebuilds-metrics.service.js';
import { DemandMetricsSource } from './metrics/demand-metrics.source.js';
import { ClaimService } from './claim/claim.service.js';
import { ClaimRepository } from './database/claim.repository.js';
import { ClaimPool } from './database/claim-pool.js';
import { ClaimableTemplateCache } from './claim/claimable-template-cache.js';
import { ClaimBatcher } from './claim/claim-batcher.js';
import { NotificationBatcher } from './pubsub/notification-batcher.service.js';
import { Clock, SystemClock } from './clock/clock.js';
import { PrebuildEventRepository } from './database/prebuild-event.repository.js';
import { PrebuildReportRepository } from './database/prebuild-report.repository.js';
import { PresetHistoryRepository } from './database/preset-history.repository.js';
import { PresetRepository } from './database/preset.repository.js';
import { PrebuildsSettingsRepository } from './database/settings.repository.js';
import { PrebuildsSnapshotRepository } from './database/snapshot.repository.js';
import { PrebuildsNamespace } from './database/prebuilds-namespace.js';
import { SchemaOwnerCheck } from './database/schema-owner-check.js';
import { WorkspaceBuildRepository } from './database/workspace-build.repository.js';
import { PREBUILDS_MODULE_OPTIONS, PrebuildsConfigurableModule } from './prebuilds.module-definition.js';
import {
  PREBUILDS_OPTIONS,
  type ResolvedPrebuildsOptions,
  resolvePrebuildsOptions,
} from './prebuilds.options.js';
import { ProvisionerJobRepository } from './database/provisioner-job.repository.js';
import { ProvisionerJobService } from './provisioner/provisioner-job.service.js';
import { ProvisionerKeyRepository } from './database/provisioner-key.repository.js';
import { ProvisionerKeyService } from './provisioner/provisioner-key.service.js';
import { ProvisionerApiService } from './provisioner/provisioner-api.service.js';
import { BuildLogRepository } from './database/build-log.repository.js';
import { BuildLogService } from './provisioner/build-log.service.js';
import { ProvisionerKeyGuard } from './http/provisioner-key.guard.js';
import { PostgresPubsub } from './pubsub/postgres-pubsub.js';
import { PrebuildsPubsub } from './pubsub/prebuilds-pubsub.js';
import { PresetActionExecutor } from './reconciler/preset-action-executor.service.js';
import { ReconcileScheduler } from './reconciler/reconcile-scheduler.service.js';
import { ReconcilerService } from './reconciler/reconciler.service.js';

/**
 * Warm pools of prebuilt workspaces. Queries the host's TypeORM DataSource (the default one, or the one named by the
 * `dataSource` extra) with every statement naming the module's schema, which runPrebuildsMigrations creates.
 */
@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [
    { provide: PREBUILDS_OPTIONS, useFactory: resolvePrebuildsOptions, inject: [PREBUILDS_MODULE_OPTIONS] },
    { provide: Clock, useClass: SystemClock },
    {
      provide: PrebuildsNamespace,
      useFactory: (options: ResolvedPrebuildsOptions) =>
        new PrebuildsNamespace(options.schema, options.prebuildsOwnerId),
      inject: [PREBUILDS_OPTIONS],
    },
    SchemaOwnerCheck,
    { provide: PrebuildsPubsub, useClass: PostgresPubsub },
    PrebuildsSnapshotRepository,
    CatalogRepository,
    TemplateCatalogService,
    WorkspaceViewRepository,
    WorkspaceQueryService,
    PrebuildsSettingsRepository,
    PresetRepository,
    PrebuildEventRepository,
    PresetHistoryRepository,
    WorkspaceBuildRepository,
    WorkspaceBuilderService,
    PrebuildCreatorService,
    PresetActionExecutor,
    ReconcilerService,
    ReconcileScheduler,
    ProvisionerJobRepository,
    ProvisionerJobService,
    ProvisionerKeyRepository,
    ProvisionerKeyService,
    ProvisionerKeyGuard,
    ProvisionerApiService,
    BuildLogRepository,
    BuildLogService,
    ClaimRepository,
    {
      provide: ClaimPool,
      useFactory: (dataSource: DataSource, options: ResolvedPrebuildsOptions) =>
        new ClaimPool(dataSource, options.claimPoolSize),
      inject: [PREBUILDS_DATA_SOURCE, PREBUILDS_OPTIONS],
    },
    ClaimableTemplateCache,
    ClaimBatcher,
    NotificationBatcher,
    PrebuildsMetricsService,
    DemandMetricsSource,
    { provide: ClaimObserver, useClass: ClaimMetricsObserver },
    { provide: JobObserver, useClass: JobMetricsObserver },
    { provide: ReconcileObserver, useClass: ReconcileMetricsObserver },
    {
      provide: PREBUILDS_AUTHORIZER,
      useFactory: (options: ResolvedPrebuildsOptions) => authorizerOf(options.authorization),
      inject: [PREBUILDS_OPTIONS],
    },
    {
      provide: PREBUILDS_METRICS_TOKEN,
      useFactory: (options: ResolvedPrebuildsOptions) => options.metricsToken,
      inject: [PREBUILDS_OPTIONS],
    },
    ClaimService,
    PrebuildReportRepository,
    PrebuildsStatusService,
    PrebuildsAdminService,
    PresetHistoryService,
  ],
  exports: [
    PREBUILDS_OPTIONS,
    // Every @RequirePermission route's guard needs it, the host's own routes too.
    PREBUILDS_AUTHORIZER,
    TemplateCatalogService,
    WorkspaceQueryService,
    PrebuildsNamespace,
    Clock,
    PrebuildsPubsub,
    WorkspaceBuilderService,
    ReconcilerService,
    ReconcileScheduler,
    PrebuildsSettingsRepository,
    PresetRepository,
    PrebuildEventRepository,
    ProvisionerJobService,
    ProvisionerKeyService,
    BuildLogService,
    ClaimService,
    PrebuildsStatusService,
    PrebuildsAdminService,
    PresetHistoryService,
    PrebuildsMetricsService,
    // The health indicators (mounted by the host in its own module) report cluster freshness through it.
    ReconcileObserver,
  ],
})
export class PrebuildsModule extends PrebuildsConfigurableModule {}
