import { HttpCode, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { TemplateCatalogService } from '../catalog/template-catalog.service.js';
import { RequirePermission } from '../rbac/require-permission.decorator.js';
import { CurrentSubject, type PrebuildsSubject } from '../rbac/subject.js';
import { PrebuildsController } from './prebuilds-controller.decorator.js';
import { HostIdParam } from './id-param.decorators.js';

@PrebuildsController('templates', 'prebuilds')
export class TemplatePrebuildsController {
  constructor(private readonly catalog: TemplateCatalogService) {}

  @Post(':id/prebuilds/invalidate')
  @HttpCode(200)
  @RequirePermission('templates:update')
  @ApiOperation({
    summary: "Expire every prebuild of the template's active version; the reconciler replaces them",
  })
  invalidate(@HostIdParam('id') templateId: string, @CurrentSubject() subject: PrebuildsSubject) {
    return this.catalog.invalidate(templateId, subject.id);
  }
}
