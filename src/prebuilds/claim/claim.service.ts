import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BuildValidationError } from '../builder/build-errors.js';
import { resolveBuildParameters } from '../builder/parameter-validation.js';
import { WorkspaceBuilderService } from '../builder/workspace-builder.service.js';
import { Clock } from '../clock/clock.js';
import { CatalogRepository } from '../database/catalog.repository.js';
import { type ClaimableTemplate, type ClaimInput } from '../database/claim.repository.js';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { PrebuildsChannel } from '../pubsub/channels.js';
import { NotificationBatcher } from '../pubsub/notification-batcher.service.js';
import { assertPlainInput } from '../validation/validate-shape.js';
import { ClaimBatcher } from './claim-batcher.js';
import { ClaimableTemplateCache } from './claimable-template-cache.js';
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
/** Tries of a claim whose cached template turned out stale (a version activated meanwhile). */
const STALE_VERSION_TRIES = 3;

/**
 * A user's new workspace: served from the preset's warm pool when an eligible prebuild exists (a claim), built from
 * scratch otherwise (a miss). Claim or miss, it is one statement on the claim pool (ClaimRepository.claimStatement),
 * with the request's parameters checked beforehand against the template's active version (ClaimableTemplateCache);
 * the job post, the refill wake-up and the claim event follow the commit, batched with other claims'.
 */
@Injectable()
export class ClaimService {
  constructor(
    private readonly catalog: CatalogRepository,
    private readonly batcher: ClaimBatcher,
    private readonly templates: ClaimableTemplateCache,
    private readonly builder: WorkspaceBuilderService,
    private readonly notifications: NotificationBatcher,
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
    const given = request.parameters ?? {};
    for (let attempt = 1; ; attempt += 1) {
      const template = await this.templates.get(request.templateId);
      if (!template || template.deleted || !template.activeVersionId)
        throw templateNotFound(request.templateId);
      const presetId = await this.resolvePreset(request, template);
      if (presetId === undefined) {
        if (attempt < STALE_VERSION_TRIES) continue;
        throw new Error(`template ${request.templateId} kept changing its presets during a claim`);
      }
      const preset = presetId ? template.presets.find((p) => p.presetId === presetId) : undefined;
      const input: ClaimInput = {
        templateId: request.templateId,
        versionId: template.activeVersionId,
        presetId,
        ownerId: request.ownerId,
        name: request.name,
        now,
        newWorkspaceId: randomUUID(),
        buildId: randomUUID(),
        jobId: randomUUID(),
        parameters: checkedParameters(template, { ...(preset?.parameters ?? {}), ...given }),
        maxLiveWorkspaces: request.maxLiveWorkspaces ?? null,
      };
      const outcome = await this.batcher.claim(input).catch((error: unknown) => {
        throw translate(error, request.name);
      });
      if (!outcome.templateLive) {
        this.templates.forget(request.templateId);
        throw templateNotFound(request.templateId);
      }
      if (!outcome.versionCurrent) {
        this.templates.forget(request.templateId);
        if (attempt < STALE_VERSION_TRIES) continue;
        throw new Error(
          `template ${request.templateId} changed its active version ${attempt} times during a claim`,
        );
      }
      if (!outcome.withinQuota) {
        throw new PrebuildsException(
          PrebuildsErrorCode.QuotaExceeded,
          `you already have ${outcome.live} live workspaces, the most allowed is ${request.maxLiveWorkspaces}`,
        );
      }
      const workspaceId = outcome.workspaceId as string;
      this.afterCommit(request.templateId, presetId, outcome.claimed, input, started);
      return {
        id: workspaceId,
        name: request.name,
        ownerId: request.ownerId,
        presetId,
        claimed: outcome.claimed,
        buildId: input.buildId,
      };
    }
  }

  private afterCommit(
    templateId: string,
    presetId: string | null,
    claimed: boolean,
    input: ClaimInput,
    started: number,
  ): void {
    this.builder.postJob(input.jobId);
    if (!presetId) return;
    this.observer.recordClaim(presetId, claimed, (performance.now() - started) / 1000);
    this.notifications.recordEvent({
      presetId,
      type: claimed ? 'claim_succeeded' : 'claim_missed',
      at: input.now,
    });
    if (claimed) this.notifications.publish(PrebuildsChannel.WorkspaceClaimed, { templateId, presetId });
  }

  /**
   * The preset the request means: the one it names (which must be on the active version), or the best parameter
   * match among the active version's presets (all of a preset's values equal in the request; the most values wins,
   * ties by name). Undefined when the cached template proved stale: the caller reads it again.
   */
  private async resolvePreset(
    request: CreateWorkspaceRequest,
    template: ClaimableTemplate,
  ): Promise<string | null | undefined> {
    const given = request.parameters ?? {};
    if (!request.presetId) {
      let best: { presetId: string; size: number } | null = null;
      for (const preset of template.presets) {
        const entries = Object.entries(preset.parameters);
        const matches = entries.every(([name, value]) => Object.hasOwn(given, name) && given[name] === value);
        if (matches && (!best || entries.length > best.size))
          best = { presetId: preset.presetId, size: entries.length };
      }
      return best?.presetId ?? null;
    }
    if (template.presets.some((p) => p.presetId === request.presetId)) return request.presetId;
    const preset = await this.catalog.findPresetOfTemplate(request.templateId, request.presetId);
    if (!preset) {
      throw new PrebuildsException(
        PrebuildsErrorCode.PresetNotFound,
        `preset ${request.presetId} is not a preset of this template`,
      );
    }
    // The cached entry knows another active version, or lacks a preset of its own version: it is stale.
    if (
      preset.activeVersionId !== template.activeVersionId ||
      preset.templateVersionId === preset.activeVersionId
    ) {
      this.templates.forget(request.templateId);
      return undefined;
    }
    throw new PrebuildsException(
      PrebuildsErrorCode.PresetNotActive,
      `presetId: preset ${request.presetId} is not on the template's active version`,
    );
  }
}

function templateNotFound(templateId: string): PrebuildsException {
  return new PrebuildsException(PrebuildsErrorCode.TemplateNotFound, `template ${templateId} not found`);
}

/** The build's values: the preset's and the request's over the version's defaults, checked against it. */
function checkedParameters(
  template: ClaimableTemplate,
  values: Record<string, string>,
): Record<string, string> {
  try {
    return resolveBuildParameters(template.definitions, values);
  } catch (error) {
    if (error instanceof BuildValidationError)
      throw new PrebuildsException(PrebuildsErrorCode.InvalidParameters, `parameters: ${error.message}`);
    throw error;
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
  if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
    return new PrebuildsException(
      PrebuildsErrorCode.NameTaken,
      `name: you already have a workspace named '${name}'`,
    );
  }
  return error;
}
