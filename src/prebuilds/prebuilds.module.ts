import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { PrebuildsAdminService } from './admin/prebuilds-admin.service.js';
import { PrebuildsStatusService } from './admin/prebuilds-status.service.js';
import { PrebuildCreatorService } from './builder/prebuild-creator.service.js';
import { WorkspaceBuilderService } from './builder/workspace-builder.service.js';
import { ClaimObserver } from './claim/claim-observer.js';
import { PrebuildsAdminController } from './http/prebuilds.controller.js';
import { TemplatePrebuildsController } from './http/template-prebuilds.controller.js';
import { ClaimMetricsObserver } from './metrics/claim-metrics.observer.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { PREBUILDS_METRICS_TOKEN } from './metrics/metrics-token.guard.js';
import { PrebuildsMetricsService } from './metrics/prebuilds-metrics.service.js';
import { ClaimService } from './claim/claim.service.js';
import { ClaimRepository } from './database/claim.repository.js';
import { Clock, SystemClock } from './clock/clock.js';
import { PrebuildEventRepository } from './database/prebuild-event.repository.js';
import { PrebuildReportRepository } from './database/prebuild-report.repository.js';
import { PresetRepository } from './database/preset.repository.js';
import { PrebuildsSettingsRepository } from './database/settings.repository.js';
import { PrebuildsSnapshotRepository } from './database/snapshot.repository.js';
import { WorkspaceBuildRepository } from './database/workspace-build.repository.js';
import {
  PREBUILDS_MODULE_OPTIONS,
  PREBUILDS_OPTIONS,
  PrebuildsConfigurableModule,
  type ResolvedPrebuildsOptions,
  resolvePrebuildsOptions,
} from './prebuilds.options.js';
import { ProvisionerJobRepository } from './provisioner/provisioner-job.repository.js';
import { ProvisionerJobService } from './provisioner/provisioner-job.service.js';
import { PostgresPubsub } from './pubsub/postgres-pubsub.js';
import { PrebuildsPubsub } from './pubsub/prebuilds-pubsub.js';
import { PresetActionExecutor } from './reconciler/preset-action-executor.service.js';
import { ReconcileScheduler } from './reconciler/reconcile-scheduler.service.js';
import { ReconcilerService } from './reconciler/reconciler.service.js';

/**
 * Warm pools of prebuilt workspaces. Needs the host's default TypeORM DataSource on this module's schema
 * (PREBUILDS_ENTITIES / PREBUILDS_MIGRATIONS).
 */
@Module({
  imports: [ScheduleModule.forRoot()],
  controllers: [PrebuildsAdminController, TemplatePrebuildsController, MetricsController],
  providers: [
    { provide: PREBUILDS_OPTIONS, useFactory: resolvePrebuildsOptions, inject: [PREBUILDS_MODULE_OPTIONS] },
    { provide: Clock, useClass: SystemClock },
    { provide: PrebuildsPubsub, useClass: PostgresPubsub },
    PrebuildsSnapshotRepository,
    PrebuildsSettingsRepository,
    PresetRepository,
    PrebuildEventRepository,
    WorkspaceBuildRepository,
    WorkspaceBuilderService,
    PrebuildCreatorService,
    PresetActionExecutor,
    ReconcilerService,
    ReconcileScheduler,
    ProvisionerJobRepository,
    ProvisionerJobService,
    ClaimRepository,
    PrebuildsMetricsService,
    { provide: ClaimObserver, useClass: ClaimMetricsObserver },
    {
      provide: PREBUILDS_METRICS_TOKEN,
      useFactory: (options: ResolvedPrebuildsOptions) => options.metricsToken,
      inject: [PREBUILDS_OPTIONS],
    },
    ClaimService,
    PrebuildReportRepository,
    PrebuildsStatusService,
    PrebuildsAdminService,
  ],
  exports: [
    PREBUILDS_OPTIONS,
    Clock,
    PrebuildsPubsub,
    WorkspaceBuilderService,
    ReconcilerService,
    ReconcileScheduler,
    PrebuildsSettingsRepository,
    PresetRepository,
    PrebuildEventRepository,
    ProvisionerJobService,
    ClaimService,
    PrebuildsStatusService,
    PrebuildsAdminService,
    PrebuildsMetricsService,
  ],
})
export class PrebuildsModule extends PrebuildsConfigurableModule {}
