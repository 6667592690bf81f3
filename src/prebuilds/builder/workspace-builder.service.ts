import { Inject, Injectable } from '@nestjs/common';
import { InjectPrebuildsDataSource } from '../database/prebuilds-data-source.js';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../clock/clock.js';
import { CatalogRepository } from '../database/catalog.repository.js';
import {
  type LiveWorkspace,
  type NewBuild,
  WorkspaceBuildRepository,
} from '../database/workspace-build.repository.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import { type JobPostedMessage, PrebuildsChannel } from '../pubsub/channels.js';
import { NotificationBatcher } from '../pubsub/notification-batcher.service.js';
import type { Transition } from '../state/types.js';
import { BuildValidationError } from './build-errors.js';
import { resolveBuildParameters } from './parameter-validation.js';

export type DeleteOutcome = 'deleted' | 'claimed' | 'gone';

export interface BuildRequest {
  workspaceId: string;
  transition: Transition;
  initiatorId: string;
  reason: string;
  /** Values that override the previous build's (start only). */
  parameters?: Record<string, string>;
}

export interface BuildResult {
  buildId: string;
  jobId: string;
  buildNumber: number;
}

/**
 * Turns transitions into builds: the build row, its parameters and a pending provisioner job, in one transaction,
 * with the job posted (a batched NOTIFY) only after commit. A lost post changes nothing: provisioners also poll.
 */
@Injectable()
export class WorkspaceBuilderService {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly builds: WorkspaceBuildRepository,
    private readonly catalog: CatalogRepository,
    private readonly clock: Clock,
    private readonly notifications: NotificationBatcher,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {}

  /**
   * Starts deleting a prebuild, in its own transaction. Re-reads the workspace under a row lock and refuses when
   * the prebuilds user no longer owns it: it was claimed after the snapshot was taken.
   */
  async deletePrebuild(workspaceId: string, now: Date): Promise<DeleteOutcome> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const workspace = await this.builds.lockLiveWorkspace(manager, workspaceId);
      if (!workspace) return { outcome: 'gone' as const };
      if (workspace.ownerId !== this.options.prebuildsOwnerId) return { outcome: 'claimed' as const };
      const build = await this.writeBuild(
        manager,
        workspace,
        {
          workspaceId,
          transition: 'delete',
          initiatorId: this.options.prebuildsOwnerId,
          reason: 'prebuild',
        },
        now,
      );
      return { outcome: 'deleted' as const, jobId: build.jobId };
    });
    if (outcome.outcome === 'deleted') this.postJob(outcome.jobId);
    return outcome.outcome;
  }

  /** A start, stop or delete of any workspace, for its owner or an admin. Throws BuildValidationError on bad input. */
  async build(request: BuildRequest): Promise<BuildResult> {
    const now = this.clock.now();
    const result = await this.dataSource.transaction(async (tx) => {
      const workspace = await this.builds.lockLiveWorkspace(tx, request.workspaceId);
      if (!workspace) throw new Error(`workspace ${request.workspaceId} does not exist`);
      return this.writeBuild(tx, workspace, request, now);
    });
    this.postJob(result.jobId);
    return result;
  }

  /**
   * Cancels a preset's unacquired first start builds on a non-active version and deletes those workspaces without a
   * provisioner: each gets a delete build whose job is written already completed. Returns how many.
   */
  async cancelPendingNonActive(presetId: string, now: Date): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const canceled = await this.builds.cancelPendingNonActive(manager, presetId, now);
      const deletes: NewBuild[] = canceled.map((row) => ({
        id: randomUUID(),
        jobId: randomUUID(),
        workspaceId: row.workspaceId,
        buildNumber: row.buildNumber + 1,
        transition: 'delete',
        templateVersionId: row.templateVersionId,
        presetId,
        initiatorId: this.options.prebuildsOwnerId,
        reason: 'prebuild',
        parameters: {},
        createdAt: now,
        completedAt: now,
      }));
      await this.builds.insertBuilds(manager, deletes);
      await this.builds.pointLatestBuilds(
        manager,
        deletes.map((build) => ({ workspaceId: build.workspaceId, buildId: build.id, deleted: true })),
        now,
      );
      return deletes.length;
    });
  }

  /** Writes the next build of a locked workspace: a start on the active version, anything else on the last one. */
  private async writeBuild(
    manager: EntityManager,
    workspace: LiveWorkspace,
    request: BuildRequest,
    now: Date,
  ): Promise<BuildResult> {
    let versionId = workspace.latestVersionId;
    let parameters: Record<string, string> = {};
    if (request.transition === 'start') {
      const template = await this.catalog.findTemplateState(manager, workspace.templateId);
      versionId = template?.activeVersionId ?? versionId;
      const definitions = await this.catalog.findParameters(manager, versionId);
      // Values of the previous build that the new version no longer declares are dropped, not refused.
      const carried = Object.fromEntries(
        Object.entries(workspace.latestParameters).filter(([name]) =>
          definitions.some((d) => d.name === name),
        ),
      );
      parameters = resolveBuildParameters(definitions, { ...carried, ...(request.parameters ?? {}) });
    } else if (request.parameters && Object.keys(request.parameters).length > 0) {
      throw new BuildValidationError(`a ${request.transition} build takes no parameters`);
    }
    const build: NewBuild = {
      id: randomUUID(),
      jobId: randomUUID(),
      workspaceId: workspace.id,
      buildNumber: workspace.latestBuildNumber + 1,
      transition: request.transition,
      templateVersionId: versionId,
      presetId: workspace.latestPresetId ?? workspace.presetId,
      initiatorId: request.initiatorId,
      reason: request.reason,
      parameters,
      createdAt: now,
    };
    await this.builds.insertBuilds(manager, [build]);
    await this.builds.pointLatestBuilds(
      manager,
      [{ workspaceId: workspace.id, buildId: build.id, deleted: false }],
      now,
    );
    return { buildId: build.id, jobId: build.jobId, buildNumber: build.buildNumber };
  }

  /**
   * Wakes provisioners, in the next batch of wake-ups (NotificationBatcher). Best effort by design: they poll as
   * well.
   */
  postJob(jobId: string): void {
    this.notifications.publish(PrebuildsChannel.JobPosted, { jobId } satisfies JobPostedMessage);
  }
}
