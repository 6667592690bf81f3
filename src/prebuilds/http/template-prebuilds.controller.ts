import { HttpCode, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { PrebuildsAdminService } from '../admin/prebuilds-admin.service.js';
import { RequirePermission } from '../rbac/require-permission.decorator.js';
import { CurrentSubject, type PrebuildsSubject } from '../rbac/subject.js';
import { PrebuildsController } from './prebuilds-controller.decorator.js';
import { UuidParam } from './uuid-param.decorator.js';

@PrebuildsController('templates', 'prebuilds')
export class TemplatePrebuildsController {
  constructor(private readonly admin: PrebuildsAdminService) {}

  @Post(':id/prebuilds/invalidate')
  @HttpCode(200)
  @RequirePermission('templates:update')
  @ApiOperation({
    summary: "Expire every prebuild of the template's active version; the reconciler replaces them",
  })
  invalidate(@UuidParam('id') templateId: string, @CurrentSubject() subject: PrebuildsSubject) {
    return this.admin.invalidateTemplate(templateId, subject.username);
  }
}
