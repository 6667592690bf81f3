import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../../prebuilds/clock/clock.js';
import { DEFAULT_ORGANIZATION_ID } from '../../prebuilds/database/system-ids.js';
import { PrebuildsErrorCode, PrebuildsException } from '../../prebuilds/errors/prebuilds.exception.js';
import { PrebuildsChannel, type TemplateMessage } from '../../prebuilds/pubsub/channels.js';
import { PrebuildsPubsub } from '../../prebuilds/pubsub/prebuilds-pubsub.js';
import {
  TEMPLATE_NAME_CONSTRAINT,
  TEMPLATE_ORGANIZATION_CONSTRAINT,
  TemplateRepository,
  VERSION_NAME_CONSTRAINT,
  violatedConstraint,
  type PresetRow,
} from './template.repository.js';
import type {
  CreateTemplateInput,
  CreateVersionInput,
  CreatedTemplate,
  CreatedVersion,
  PresetView,
  TemplateView,
} from './templates.types.js';
import { planVersion } from './version-validation.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Templates and their versions for the host app. Every write is one transaction, validated before it starts, and
 * announced on TemplateChanged after commit so that the reconciler looks at the template at once instead of at
 * its next interval.
 */
@Injectable()
export class TemplatesService {
  private readonly logger = new Logger(TemplatesService.name);

  constructor(
    private readonly templates: TemplateRepository,
    private readonly pubsub: PrebuildsPubsub,
    private readonly clock: Clock,
  ) {}

  /** A template with its first version, made active. */
  async createTemplate(input: CreateTemplateInput): Promise<CreatedTemplate> {
    const plan = planVersion(input.version);
    const organizationId = input.organizationId ?? DEFAULT_ORGANIZATION_ID;
    const templateId = randomUUID();
    const versionId = randomUUID();
    const now = this.clock.now();
    const presets = await this.templates
      .transaction(async (manager) => {
        await this.templates.insertTemplate(manager, {
          id: templateId,
          organizationId,
          name: input.name,
          activeVersionId: versionId,
          now,
        });
        return this.templates.insertVersion(manager, templateId, versionId, plan, now);
      })
      .catch((error: unknown) => this.translate(error, input.name, plan.name, organizationId));
    this.logger.log({
      msg: 'template created',
      event: 'template_created',
      templateId,
      templateName: input.name,
      organizationId,
      versionId,
      presets: presets.length,
    });
    await this.announce(templateId);
    return {
      id: templateId,
      name: input.name,
      organizationId,
      activeVersion: { id: versionId, name: plan.name, presets },
    };
  }

  /** A new version of a live template; `activate` makes it the active one in the same transaction. */
  async createVersion(templateId: string, input: CreateVersionInput): Promise<CreatedVersion> {
    this.assertUuid(templateId);
    const plan = planVersion(input.version);
    const active = input.activate ?? false;
    const versionId = randomUUID();
    const now = this.clock.now();
    const presets = await this.templates
      .transaction(async (manager) => {
        if (!(await this.templates.lockLiveTemplate(manager, templateId))) throw this.notFound(templateId);
        const created = await this.templates.insertVersion(manager, templateId, versionId, plan, now);
        if (active) await this.templates.setActiveVersion(manager, templateId, versionId, now);
        return created;
      })
      .catch((error: unknown) => this.translate(error, null, plan.name, null));
    this.logger.log({
      msg: 'template version created',
      event: 'template_version_created',
      templateId,
      versionId,
      versionName: plan.name,
      active,
      presets: presets.length,
    });
    await this.announce(templateId);
    return { id: versionId, name: plan.name, active, presets };
  }

  /** A live template with its active version, that version's parameters and presets (prebuild config included). */
  async getTemplate(templateId: string): Promise<TemplateView> {
    this.assertUuid(templateId);
    const template = await this.templates.findTemplate(templateId);
    if (!template) throw this.notFound(templateId);
    let activeVersion: TemplateView['activeVersion'] = null;
    if (template.versionId !== null) {
      const [parameters, presets] = await Promise.all([
        this.templates.findParameters(template.versionId),
        this.templates.findPresets(template.versionId),
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

  /** The id of the live template with this name (case-insensitive, like the unique index), or null. */
  async findTemplateIdByName(name: string, organizationId = DEFAULT_ORGANIZATION_ID): Promise<string | null> {
    return this.templates.findTemplateIdByName(organizationId, name);
  }

  /** Soft delete: the row stays for the workspaces that reference it; the reconciler removes its prebuilds. */
  async softDeleteTemplate(templateId: string): Promise<void> {
    this.assertUuid(templateId);
    if (!(await this.templates.softDelete(templateId, this.clock.now()))) throw this.notFound(templateId);
    this.logger.log({ msg: 'template deleted', event: 'template_deleted', templateId });
    await this.announce(templateId);
  }

  /** A deprecated template gets no prebuilds (DESIGN.md rule 1); '' lifts the deprecation. */
  async deprecateTemplate(templateId: string, message: string): Promise<void> {
    this.assertUuid(templateId);
    if (!(await this.templates.setDeprecated(templateId, message, this.clock.now()))) {
      throw this.notFound(templateId);
    }
    this.logger.log({
      msg: 'template deprecation changed',
      event: 'template_deprecated',
      templateId,
      deprecated: message !== '',
    });
    await this.announce(templateId);
  }

  /** A wake-up hint only: when it is lost, the reconciler still sees the change on its next interval. */
  private async announce(templateId: string): Promise<void> {
    const message: TemplateMessage = { templateId };
    try {
      await this.pubsub.publish(PrebuildsChannel.TemplateChanged, message);
    } catch (error) {
      this.logger.warn({
        msg: 'template change not published',
        event: 'template_changed_publish_failed',
        templateId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Maps the constraint violations a caller can cause to 409/400; anything else stays a server error. */
  private translate(
    error: unknown,
    templateName: string | null,
    versionName: string,
    organizationId: string | null,
  ): never {
    switch (violatedConstraint(error)) {
      case TEMPLATE_NAME_CONSTRAINT:
        throw new PrebuildsException(
          PrebuildsErrorCode.NameTaken,
          `name: a template named '${templateName}' already exists`,
        );
      case VERSION_NAME_CONSTRAINT:
        throw new PrebuildsException(
          PrebuildsErrorCode.NameTaken,
          `version.name: the template already has a version named '${versionName}'`,
        );
      case TEMPLATE_ORGANIZATION_CONSTRAINT:
        throw new PrebuildsException(
          PrebuildsErrorCode.ValidationFailed,
          `organizationId: organization '${organizationId}' does not exist`,
        );
      default:
        throw error;
    }
  }

  /** A malformed id cannot name a template; answering 404 keeps the database from raising a cast error. */
  private assertUuid(templateId: string): void {
    if (!UUID.test(templateId)) throw this.notFound(templateId);
  }

  private notFound(templateId: string): PrebuildsException {
    return new PrebuildsException(PrebuildsErrorCode.TemplateNotFound, `template ${templateId} not found`);
  }
}

function toPresetView(row: PresetRow): PresetView {
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
          },
    prebuildStatus: row.prebuildStatus,
    lastInvalidatedAt: row.lastInvalidatedAt?.toISOString() ?? null,
  };
}
