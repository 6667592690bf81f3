import { Injectable } from '@nestjs/common';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { InjectPrebuildsDataSource } from '../database/prebuilds-data-source.js';
import { performance } from 'node:perf_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import { BuildValidationError } from '../builder/build-errors.js';
import { WorkspaceBuilderService } from '../builder/workspace-builder.service.js';
import { Clock } from '../clock/clock.js';
import { ClaimRepository, type PresetOfTemplate } from '../database/claim.repository.js';
import { PrebuildEventRepository } from '../database/prebuild-event.repository.js';
import { WorkspaceBuildRepository } from '../database/workspace-build.repository.js';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { PrebuildsChannel } from '../pubsub/channels.js';
import { PrebuildsPubsub } from '../pubsub/prebuilds-pubsub.js';
import { assertPlainInput } from '../validation/validate-shape.js';
import { ClaimObserver } from './claim-observer.js';

export interface CreateWorkspaceRequest {
  templateId: string;
  ownerId: string;
  name: string;
  presetId?: string | null;
  parameters?: Record<string, string>;
  /**
   * The most live (not deleted) workspaces the owner may have, this one included; unset → no quota. Checked inside
   * the create's transaction under a per-owner advisory lock, so concurrent creates of one owner cannot overshoot;
   * beyond it, PrebuildsException(QuotaExceeded) and nothing is written.
   */
  maxLiveWorkspaces?: number;
}

export interface CreateWorkspaceResult {
  id: string;
  name: string;
  ownerId: string;
  presetId: string | null;
  claimed: boolean;
  buildId: string;
}

const UNIQUE_VIOLATION = '23505';

/**
 * A user's new workspace: served from the preset's warm pool when an eligible prebuild exists (a claim), built from
 * scratch otherwise (a miss). Claim or miss, everything is one transaction; the job post, the refill wake-up and the
 * claim event follow the commit and are best effort.
 */
@Injectable()
export class ClaimService {
  private readonly logger = new PrebuildsLogger('PrebuildsClaim');

  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly claims: ClaimRepository,
    private readonly builds: WorkspaceBuildRepository,
    private readonly builder: WorkspaceBuilderService,
    private readonly events: PrebuildEventRepository,
    private readonly pubsub: PrebuildsPubsub,
    private readonly clock: Clock,
    private readonly observer: ClaimObserver,
  ) {}

  async createWorkspace(request: CreateWorkspaceRequest): Promise<CreateWorkspaceResult> {
    // A host calling the service directly gets the 400s of the HTTP route: NUL, reserved keys, deep nesting.
    assertPlainInput(request, '');
    if (request.parameters !== undefined && !isStringMap(request.parameters)) {
      throw new PrebuildsException(
        PrebuildsErrorCode.InvalidParameters,
        'parameters must be an object of string values',
      );
    }
    const started = performance.now();
    const now = this.clock.now();
    const outcome = await this.dataSource
      .transaction((manager) => this.claimOrBuild(manager, request, now))
      .catch((error: unknown) => {
        throw translate(error, request.name);
      });
    await this.builder.postJob(outcome.jobId);
    if (outcome.preset) {
      const presetId = outcome.preset.presetId;
      this.observer.recordClaim(presetId, outcome.claimed, (performance.now() - started) / 1000);
      await this.events
        .insert(presetId, outcome.claimed ? 'claim_succeeded' : 'claim_missed', now)
        .catch((error: Error) =>
          this.logger.warn({
            msg: 'claim event not recorded',
            event: 'claim_event_failed',
            presetId,
            error: error.message,
          }),
        );
      if (outcome.claimed) {
        await this.pubsub
          .publish(PrebuildsChannel.WorkspaceClaimed, { templateId: request.templateId, presetId })
          .catch((error: Error) =>
            this.logger.warn({
              msg: 'refill wake-up not sent',
              event: 'claim_publish_failed',
              presetId,
              error: error.message,
            }),
          );
      }
    }
    return {
      id: outcome.workspaceId,
      name: request.name,
      ownerId: request.ownerId,
      presetId: outcome.preset?.presetId ?? null,
      claimed: outcome.claimed,
      buildId: outcome.buildId,
    };
  }

  private async claimOrBuild(manager: EntityManager, request: CreateWorkspaceRequest, now: Date) {
    const template = await this.builds.findTemplate(manager, request.templateId);
    if (!template || template.deleted || !template.activeVersionId)
      throw new PrebuildsException(
        PrebuildsErrorCode.TemplateNotFound,
        `template ${request.templateId} not found`,
      );
    if (request.maxLiveWorkspaces !== undefined) {
      const live = await this.claims.lockOwnerAndCountLive(manager, request.ownerId);
      if (live >= request.maxLiveWorkspaces) {
        throw new PrebuildsException(
          PrebuildsErrorCode.QuotaExceeded,
          `you already have ${live} live workspaces, the most allowed is ${request.maxLiveWorkspaces}`,
        );
      }
    }
    const given = request.parameters ?? {};
    const preset = await this.resolvePreset(manager, request, template.activeVersionId, given);

    if (preset) {
      const claimed = await this.claims.claimOldestEligible(manager, {
        presetId: preset.presetId,
        userId: request.ownerId,
        name: request.name,
        now,
      });
      if (claimed) {
        const build = await this.builder.build(
          {
            workspaceId: claimed.workspaceId,
            transition: 'start',
            initiatorId: request.ownerId,
            reason: 'claim',
            parameters: given,
          },
          manager,
        );
        return {
          workspaceId: claimed.workspaceId,
          buildId: build.buildId,
          jobId: build.jobId,
          claimed: true,
          preset,
        };
      }
    }
    const built = await this.builder.createWorkspace(
      manager,
      {
        templateId: request.templateId,
        ownerId: request.ownerId,
        name: request.name,
        presetId: preset?.presetId ?? null,
        parameters: { ...(preset?.parameters ?? {}), ...given },
      },
      now,
    );
    return {
      workspaceId: built.workspaceId,
      buildId: built.buildId,
      jobId: built.jobId,
      claimed: false,
      preset,
    };
  }

  private async resolvePreset(
    manager: EntityManager,
    request: CreateWorkspaceRequest,
    activeVersionId: string,
    given: Record<string, string>,
  ): Promise<PresetOfTemplate | null> {
    if (!request.presetId) return this.claims.findMatchingPreset(manager, activeVersionId, given);
    const preset = await this.claims.findPresetOfTemplate(manager, request.templateId, request.presetId);
    if (!preset) {
      throw new PrebuildsException(
        PrebuildsErrorCode.PresetNotFound,
        `preset ${request.presetId} is not a preset of this template`,
      );
    }
    if (preset.templateVersionId !== activeVersionId) {
      throw new PrebuildsException(
        PrebuildsErrorCode.PresetNotActive,
        `presetId: preset ${request.presetId} is not on the template's active version`,
      );
    }
    return preset;
  }
}

function isStringMap(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((entry) => typeof entry === 'string')
  );
}

function translate(error: unknown, name: string): unknown {
  if (error instanceof BuildValidationError) {
    return new PrebuildsException(PrebuildsErrorCode.InvalidParameters, `parameters: ${error.message}`);
  }
  if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
    return new PrebuildsException(
      PrebuildsErrorCode.NameTaken,
      `name: you already have a workspace named '${name}'`,
    );
  }
  return error;
}
