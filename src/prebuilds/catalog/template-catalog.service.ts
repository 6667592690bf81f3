import { Inject, Injectable, Optional } from '@nestjs/common';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { randomUUID } from 'node:crypto';
import { Clock } from '../clock/clock.js';
import {
  CatalogRepository,
  type CatalogPresetRow,
  TEMPLATE_ID_CONSTRAINT,
  TEMPLATE_NAME_CONSTRAINT,
  VERSION_NAME_CONSTRAINT,
  violatedConstraint,
} from '../database/catalog.repository.js';
import { PresetRepository } from '../database/preset.repository.js';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { PrebuildsPubsub } from '../pubsub/prebuilds-pubsub.js';
import { wakeTemplate } from '../pubsub/wake-template.js';
import type {
  CreatedTemplate,
  CreatedVersion,
  PresetView,
  PublishVersionInput,
  RegisterTemplateInput,
  TemplateView,
} from './catalog.types.js';
import { assertHostId } from '../validation/host-id.js';
import { assertProvisionerTags } from '../provisioner/provisioner-tags.js';
import { assertPlainInput, validateShape } from '../validation/validate-shape.js';
import { DEFAULT_CAPS, PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import { MAX_INSTANCES, NAME_MAX_LENGTH, VersionDto } from './version.dto.js';
import { plannedExpression, planVersion } from './version-validation.js';

/**
 * The module's catalog: templates under the host's own ids, their versions (parameters, presets, prebuild settings,
 * schedules, TTL), activation, deprecation, soft deletion, a preset's instance count and invalidation. Every write is
 * validated before it starts (a PrebuildsException with code VALIDATION_FAILED naming the field), runs in one
 * transaction, and is announced on TemplateChanged after commit so that the reconciler looks at the template at once
 * instead of at its next interval.
 */
@Injectable()
export class TemplateCatalogService {
  private readonly logger = new PrebuildsLogger('PrebuildsCatalog');

  constructor(
    private readonly catalog: CatalogRepository,
    private readonly presets: PresetRepository,
    private readonly pubsub: PrebuildsPubsub,
    private readonly clock: Clock,
    @Optional()
    @Inject(PREBUILDS_OPTIONS)
    private readonly options: Pick<ResolvedPrebuildsOptions, 'maxInstancesPerPreset'> = DEFAULT_CAPS,
  ) {}

  /** The largest `instances` a preset or schedule may ask for: the per-preset cap, within the DTO's absolute bound. */
  private get maxInstances(): number {
    return Math.min(this.options.maxInstancesPerPreset, MAX_INSTANCES);
  }

  /** Registers a template under the host's id (or a new UUID) with its first version, made active. */
  async registerTemplate(input: RegisterTemplateInput): Promise<CreatedTemplate> {
    assertPlainInput(input, '');
    const templateId = input.id ?? randomUUID();
    assertHostId(templateId, 'id');
    assertHostId(input.organizationId, 'organizationId');
    assertName(input.name, 'name');
    const provisionerTags = input.provisionerTags ?? {};
    assertProvisionerTags(provisionerTags, 'provisionerTags', 'reserved');
    const plan = planVersion(validateShape(VersionDto, input.version, 'version'), 'version', {
      maxInstances: this.maxInstances,
    });
    const versionId = randomUUID();
    const now = this.clock.now();
    const presets = await this.catalog
      .transaction(async (manager) => {
        await this.catalog.insertTemplate(manager, {
          id: templateId,
          organizationId: input.organizationId,
          name: input.name,
          activeVersionId: versionId,
          provisionerTags,
          now,
        });
        return this.catalog.insertVersion(manager, templateId, versionId, plan, now);
      })
      .catch((error: unknown) => this.translate(error, { templateId, templateName: input.name, plan }));
    this.logger.log({
      msg: 'template registered',
      event: 'template_created',
      templateId,
      templateName: input.name,
      organizationId: input.organizationId,
      versionId,
      presets: presets.length,
    });
    await wakeTemplate(this.pubsub, this.logger, templateId);
    return {
      id: templateId,
      name: input.name,
      organizationId: input.organizationId,
      activeVersion: { id: versionId, name: plan.name, presets },
    };
  }

  /** A new version of a live template; `activate` makes it the active one in the same transaction. */
  async publishVersion(templateId: string, input: PublishVersionInput): Promise<CreatedVersion> {
    assertPlainInput(input, '');
    const plan = planVersion(validateShape(VersionDto, input.version, 'version'), 'version', {
      maxInstances: this.maxInstances,
    });
    if (input.activate !== undefined && typeof input.activate !== 'boolean') {
      throw new PrebuildsException(PrebuildsErrorCode.ValidationFailed, 'activate must be a boolean value');
    }
    const active = input.activate ?? false;
    const versionId = randomUUID();
    const now = this.clock.now();
    const presets = await this.catalog
      .transaction(async (manager) => {
        if (!(await this.catalog.lockLiveTemplate(manager, templateId))) throw notFound(templateId);
        const created = await this.catalog.insertVersion(manager, templateId, versionId, plan, now);
        if (active) await this.catalog.setActiveVersion(manager, templateId, versionId, now);
        return created;
      })
      .catch((error: unknown) => this.translate(error, { templateId, templateName: null, plan }));
    this.logger.log({
      msg: 'template version published',
      event: 'template_version_created',
      templateId,
      versionId,
      versionName: plan.name,
      active,
      presets: presets.length,
    });
    await wakeTemplate(this.pubsub, this.logger, templateId);
    return { id: versionId, name: plan.name, active, presets };
  }

  /** Makes one of a live template's versions the active one (an older one too: a rollback). */
  async activateVersion(templateId: string, versionId: string): Promise<void> {
    const now = this.clock.now();
    await this.catalog.transaction(async (manager) => {
      if (!(await this.catalog.lockLiveTemplate(manager, templateId))) throw notFound(templateId);
      if (!(await this.catalog.setActiveVersion(manager, templateId, versionId, now))) {
        throw new PrebuildsException(
          PrebuildsErrorCode.NotFound,
          `versionId: template ${templateId} has no version ${versionId}`,
        );
      }
    });
    this.logger.log({
      msg: 'template version activated',
      event: 'template_version_activated',
      templateId,
      versionId,
    });
    await wakeTemplate(this.pubsub, this.logger, templateId);
  }

  /** A live template with its active version, that version's parameters and presets (prebuild config included). */
  async getTemplate(templateId: string): Promise<TemplateView> {
    const template = await this.catalog.findTemplate(templateId);
    if (!template) throw notFound(templateId);
    let activeVersion: TemplateView['activeVersion'] = null;
    if (template.versionId !== null) {
      const [parameters, presets] = await Promise.all([
        this.catalog.findParametersAlone(template.versionId),
        this.catalog.findPresets(template.versionId),
      ]);
      activeVersion = {
        id: template.versionId,
        name: template.versionName ?? '',
        createdAt: (template.versionCreatedAt as Date).toISOString(),
        parameters: parameters.map((p) => ({
          name: p.name,
          type: p.type,
          required: p.required,
          default: p.defaultValue,
        })),
        presets: presets.map(toPresetView),
      };
    }
    return {
      id: template.id,
      name: template.name,
      organizationId: template.organizationId,
      deprecated: template.deprecated,
      createdAt: template.createdAt.toISOString(),
      updatedAt: template.updatedAt.toISOString(),
      activeVersion,
    };
  }

  /** The id of the organization's live template with this name (case-insensitive, like the unique index), or null. */
  findTemplateIdByName(organizationId: string, name: string): Promise<string | null> {
    return this.catalog.findTemplateIdByName(organizationId, name);
  }

  /** Soft delete: the row stays for the workspaces that reference it; the reconciler removes its prebuilds. */
  async deleteTemplate(templateId: string): Promise<void> {
    if (!(await this.catalog.softDelete(templateId, this.clock.now()))) throw notFound(templateId);
    this.logger.log({ msg: 'template deleted', event: 'template_deleted', templateId });
    await wakeTemplate(this.pubsub, this.logger, templateId);
  }

  /**
   * Replaces the tags every job of the template carries (`is_prebuild` is the module's and cannot be given). Jobs
   * still waiting for a provisioner are retagged in the same transaction, so that moving a template to another pool
   * of daemons does not strand its queue with the old ones; a job already taken finishes where it runs. Returns how
   * many waiting jobs were retagged.
   */
  async setProvisionerTags(templateId: string, tags: Record<string, string>): Promise<number> {
    assertProvisionerTags(tags, 'provisionerTags', 'reserved');
    const retagged = await this.catalog.transaction((manager) =>
      this.catalog.setProvisionerTags(manager, templateId, tags, this.clock.now()),
    );
    if (retagged === null) throw notFound(templateId);
    this.logger.log({
      msg: 'template provisioner tags changed',
      event: 'template_provisioner_tags_set',
      templateId,
      tags,
      retaggedJobs: retagged,
    });
    await wakeTemplate(this.pubsub, this.logger, templateId);
    return retagged;
  }

  /** A deprecated template gets no prebuilds (DESIGN.md rule 1); '' lifts the deprecation. */
  async deprecateTemplate(templateId: string, message: string): Promise<void> {
    if (typeof message !== 'string' || message.length > 1000 || message.includes('\u0000')) {
      throw new PrebuildsException(
        PrebuildsErrorCode.ValidationFailed,
        'message must be a string of at most 1000 characters without NUL',
      );
    }
    if (!(await this.catalog.setDeprecated(templateId, message, this.clock.now())))
      throw notFound(templateId);
    this.logger.log({
      msg: 'template deprecation changed',
      event: 'template_deprecated',
      templateId,
      deprecated: message !== '',
    });
    await wakeTemplate(this.pubsub, this.logger, templateId);
  }

  /** A preset's base instance count (null: no prebuilds); schedules and expressions still apply on top. */
  async setPresetInstances(presetId: string, instances: number | null): Promise<void> {
    const max = this.maxInstances;
    if (instances !== null && !(Number.isInteger(instances) && instances >= 0 && instances <= max)) {
      throw new PrebuildsException(
        PrebuildsErrorCode.ValidationFailed,
        `instances must be null or an integer from 0 to ${max} (maxInstancesPerPreset)`,
      );
    }
    const templateId = await this.catalog.setPresetInstances(presetId, instances);
    if (templateId === null) {
      throw new PrebuildsException(PrebuildsErrorCode.PresetNotFound, `preset ${presetId} not found`);
    }
    this.logger.log({ msg: 'preset instances changed', event: 'preset_instances_set', presetId, instances });
    await wakeTemplate(this.pubsub, this.logger, templateId);
  }

  /**
   * A preset's target expression (DESIGN.md rule 12; null or blank: none, the base count and schedules decide again),
   * checked as at input: a 400 naming the line and column when it does not parse, type-check or give a number.
   */
  async setPresetExpression(presetId: string, expression: string | null): Promise<void> {
    if (expression !== null && typeof expression !== 'string') {
      throw new PrebuildsException(
        PrebuildsErrorCode.ValidationFailed,
        'instancesExpression must be a string or null',
      );
    }
    const stored = plannedExpression(expression, 'instancesExpression');
    const templateId = await this.catalog.setPresetExpression(presetId, stored);
    if (templateId === null) {
      throw new PrebuildsException(PrebuildsErrorCode.PresetNotFound, `preset ${presetId} not found`);
    }
    this.logger.log({
      msg: 'preset target expression changed',
      event: 'preset_expression_set',
      presetId,
      expression: stored,
    });
    await wakeTemplate(this.pubsub, this.logger, templateId);
  }

  /** Expires every prebuild of the template's active version; returns how many presets it touched. */
  async invalidate(
    templateId: string,
    actor: string | null = null,
  ): Promise<{ templateId: string; invalidatedPresets: number }> {
    const touched = await this.presets.invalidateActiveVersion(templateId, this.clock.now());
    if (touched === null) throw notFound(templateId);
    this.logger.log({
      msg: 'template prebuilds invalidated',
      event: 'invalidated',
      templateId,
      presets: touched.length,
      actor,
    });
    await wakeTemplate(this.pubsub, this.logger, templateId);
    return { templateId, invalidatedPresets: touched.length };
  }

  /** Maps the constraint violations a caller can cause to 409; anything else stays a server error. */
  private translate(
    error: unknown,
    context: { templateId: string; templateName: string | null; plan: { name: string } },
  ): never {
    switch (violatedConstraint(error)) {
      case TEMPLATE_ID_CONSTRAINT:
        throw new PrebuildsException(
          PrebuildsErrorCode.NameTaken,
          `id: a template with id '${context.templateId}' is already registered`,
        );
      case TEMPLATE_NAME_CONSTRAINT:
        throw new PrebuildsException(
          PrebuildsErrorCode.NameTaken,
          `name: a template named '${context.templateName}' already exists`,
        );
      case VERSION_NAME_CONSTRAINT:
        throw new PrebuildsException(
          PrebuildsErrorCode.NameTaken,
          `version.name: the template already has a version named '${context.plan.name}'`,
        );
      default:
        throw error;
    }
  }
}

function assertName(value: unknown, field: string): void {
  if (
    typeof value !== 'string' ||
    value.trim() === '' ||
    value.length > NAME_MAX_LENGTH ||
    value.includes('\u0000')
  ) {
    throw new PrebuildsException(
      PrebuildsErrorCode.ValidationFailed,
      `${field} must be a non-blank string of at most ${NAME_MAX_LENGTH} characters without NUL`,
    );
  }
}

function notFound(templateId: string): PrebuildsException {
  return new PrebuildsException(PrebuildsErrorCode.TemplateNotFound, `template ${templateId} not found`);
}

function toPresetView(row: CatalogPresetRow): PresetView {
  return {
    id: row.id,
    name: row.name,
    parameters: row.parameters,
    prebuilds:
      row.desiredInstances === null
        ? null
        : {
            instances: row.desiredInstances,
            ttlSeconds: row.ttlSeconds,
            timezone: row.timezone === '' ? null : row.timezone,
            schedules: row.schedules,
            instancesExpression: row.instancesExpression,
          },
    prebuildStatus: row.prebuildStatus,
    lastInvalidatedAt: row.lastInvalidatedAt?.toISOString() ?? null,
  };
}
