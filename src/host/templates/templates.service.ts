import { Injectable } from '@nestjs/common';
import {
  type CreatedTemplate,
  type CreatedVersion,
  PrebuildsErrorCode,
  PrebuildsException,
  type PublishVersionInput,
  TemplateCatalogService,
  type TemplateView,
  type VersionInput,
} from 'nest-prebuilds';
import { DEFAULT_ORGANIZATION_ID } from './organizations.js';

export interface CreateTemplateRequest {
  name: string;
  organizationId?: string;
  version: VersionInput;
  provisionerTags?: Record<string, string>;
}

/**
 * The host's template routes over the module's catalog: the host's only policy here is its organizations (one); the
 * catalog validates, writes in one transaction and wakes the reconciler.
 */
@Injectable()
export class TemplatesService {
  constructor(private readonly catalog: TemplateCatalogService) {}

  async createTemplate(input: CreateTemplateRequest): Promise<CreatedTemplate> {
    const organizationId = input.organizationId ?? DEFAULT_ORGANIZATION_ID;
    if (organizationId !== DEFAULT_ORGANIZATION_ID) {
      throw new PrebuildsException(
        PrebuildsErrorCode.ValidationFailed,
        `organizationId: organization '${organizationId}' does not exist`,
      );
    }
    return this.catalog.registerTemplate({
      organizationId,
      name: input.name,
      version: input.version,
      ...(input.provisionerTags !== undefined ? { provisionerTags: input.provisionerTags } : {}),
    });
  }

  async createVersion(templateId: string, input: PublishVersionInput): Promise<CreatedVersion> {
    return this.catalog.publishVersion(templateId, input);
  }

  async getTemplate(templateId: string): Promise<TemplateView> {
    return this.catalog.getTemplate(templateId);
  }

  async findTemplateIdByName(name: string): Promise<string | null> {
    return this.catalog.findTemplateIdByName(DEFAULT_ORGANIZATION_ID, name);
  }

  async softDeleteTemplate(templateId: string): Promise<void> {
    return this.catalog.deleteTemplate(templateId);
  }
}
