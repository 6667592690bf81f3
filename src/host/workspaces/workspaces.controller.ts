import { Body, Get, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import {
  ClaimService,
  CurrentSubject,
  PrebuildsController,
  PrebuildsErrorCode,
  PrebuildsException,
  type PrebuildsSubject,
  RequirePermission,
  UuidParam,
  WorkspaceQueryService,
} from 'nest-prebuilds';
import { READ_ANY_WORKSPACE_ROLES } from '../auth/roles.js';
import { CreateWorkspaceDto } from './dto/create-workspace.dto.js';

const READ_ANY_ROLES: ReadonlySet<string> = new Set(READ_ANY_WORKSPACE_ROLES);

@PrebuildsController('workspaces')
export class WorkspacesController {
  constructor(
    private readonly claims: ClaimService,
    private readonly workspaces: WorkspaceQueryService,
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
    const view = await this.workspaces.findWorkspace(id);
    // Someone else's workspace answers exactly like a missing one, so ids cannot be probed.
    if (!view || (view.ownerId !== subject.id && !subject.roles.some((role) => READ_ANY_ROLES.has(role)))) {
      throw new PrebuildsException(PrebuildsErrorCode.WorkspaceNotFound, `workspace ${id} not found`);
    }
    return { ...view, createdAt: view.createdAt.toISOString() };
  }
}
