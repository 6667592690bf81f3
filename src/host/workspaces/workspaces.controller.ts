import { Body, Get, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { ClaimService } from '../../prebuilds/claim/claim.service.js';
import { PrebuildsErrorCode, PrebuildsException } from '../../prebuilds/errors/prebuilds.exception.js';
import { PrebuildsController } from '../../prebuilds/http/prebuilds-controller.decorator.js';
import { UuidParam } from '../../prebuilds/http/uuid-param.decorator.js';
import { RequirePermission } from '../../prebuilds/rbac/require-permission.decorator.js';
import { CurrentSubject, type PrebuildsSubject } from '../../prebuilds/rbac/subject.js';
import { CreateWorkspaceDto } from './dto/create-workspace.dto.js';
import { WorkspaceViewRepository } from './workspace-view.repository.js';

/** Roles that may read anyone's workspace; everyone else with workspaces:read sees only their own. */
const READ_ANY_ROLES = new Set(['owner', 'template-admin', 'auditor']);

@PrebuildsController('workspaces')
export class WorkspacesController {
  constructor(
    private readonly claims: ClaimService,
    private readonly views: WorkspaceViewRepository,
  ) {}

  @Post()
  @RequirePermission('workspaces:create')
  @ApiOperation({ summary: 'Create a workspace: claims an eligible prebuild of the preset, else builds one' })
  create(@Body() dto: CreateWorkspaceDto, @CurrentSubject() subject: PrebuildsSubject) {
    return this.claims.createWorkspace({ ...dto, ownerId: subject.id });
  }

  @Get(':id')
  @RequirePermission('workspaces:read')
  @ApiOperation({ summary: 'A workspace with its latest build, job status and agents' })
  async get(@UuidParam('id') id: string, @CurrentSubject() subject: PrebuildsSubject) {
    const view = await this.views.findById(id);
    // Someone else's workspace answers exactly like a missing one, so ids cannot be probed.
    if (!view || (view.ownerId !== subject.id && !subject.roles.some((role) => READ_ANY_ROLES.has(role)))) {
      throw new PrebuildsException(PrebuildsErrorCode.WorkspaceNotFound, `workspace ${id} not found`);
    }
    return { ...view, createdAt: view.createdAt.toISOString() };
  }
}
