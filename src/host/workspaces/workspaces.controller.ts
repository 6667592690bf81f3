import { Body, Delete, Get, HttpCode, Inject, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOperation,
} from '@nestjs/swagger';
import {
  ClaimService,
  CurrentSubject,
  PrebuildsController,
  PrebuildsErrorCode,
  PrebuildsException,
  type PrebuildsSubject,
  RequirePermission,
  UuidParam,
  WorkspaceBuilderService,
  WorkspaceQueryService,
  type WorkspaceView,
} from 'nest-prebuilds';
import { workspaceAccess } from '../auth/workspace-access.js';
import type { HostConfig } from '../config/host-config.js';
import { HOST_CONFIG } from '../config/host-config.token.js';
import { CreateWorkspaceDto } from './dto/create-workspace.dto.js';

/** Job states of a build still in flight: a stop or delete waits for it to finish. */
const IN_FLIGHT = new Set(['pending', 'running']);

@PrebuildsController('workspaces')
export class WorkspacesController {
  constructor(
    private readonly claims: ClaimService,
    private readonly workspaces: WorkspaceQueryService,
    private readonly builder: WorkspaceBuilderService,
    @Inject(HOST_CONFIG) private readonly config: HostConfig,
  ) {}

  @Post()
  @RequirePermission('workspaces:create')
  @ApiOperation({
    summary: 'Create a workspace: claims an eligible prebuild of the preset, else builds one',
    description:
      'Everyone but owners may own at most WORKSPACE_QUOTA live workspaces; beyond it, 403 QUOTA_EXCEEDED.',
  })
  @ApiForbiddenResponse({ description: 'permission missing (FORBIDDEN) or quota reached (QUOTA_EXCEEDED)' })
  create(@Body() dto: CreateWorkspaceDto, @CurrentSubject() subject: PrebuildsSubject) {
    const quota = this.config.workspaceQuota;
    return this.claims.createWorkspace({
      ...dto,
      ownerId: subject.id,
      ...(quota > 0 && !workspaceAccess.isQuotaExempt(subject) ? { maxLiveWorkspaces: quota } : {}),
    });
  }

  @Get(':id')
  @RequirePermission('workspaces:read')
  @ApiOperation({ summary: 'A workspace with its latest build, job status and agents' })
  async get(@UuidParam('id') id: string, @CurrentSubject() subject: PrebuildsSubject) {
    const view = await this.workspaces.findWorkspace(id);
    // Someone else's workspace answers exactly like a missing one, so ids cannot be probed.
    if (!view || !workspaceAccess.mayRead(subject, view.ownerId)) throw notFound(id);
    return { ...view, createdAt: view.createdAt.toISOString() };
  }

  @Post(':id/stop')
  @HttpCode(202)
  @RequirePermission('workspaces:create')
  @ApiOperation({ summary: 'Stop a workspace (own; an owner: any): starts a stop build' })
  @ApiAcceptedResponse({ description: '{ workspaceId, transition, buildId, buildNumber }' })
  @ApiNotFoundResponse({ description: 'missing, deleted, or someone else’s (code WORKSPACE_NOT_FOUND)' })
  @ApiConflictResponse({
    description: 'a build of the workspace is still pending or running (code CONFLICT)',
  })
  stop(@UuidParam('id') id: string, @CurrentSubject() subject: PrebuildsSubject) {
    return this.transition(id, 'stop', subject);
  }

  @Delete(':id')
  @HttpCode(202)
  @RequirePermission('workspaces:create')
  @ApiOperation({ summary: 'Delete a workspace (own; an owner: any): starts a delete build' })
  @ApiAcceptedResponse({ description: '{ workspaceId, transition, buildId, buildNumber }' })
  @ApiNotFoundResponse({ description: 'missing, deleted, or someone else’s (code WORKSPACE_NOT_FOUND)' })
  @ApiConflictResponse({
    description: 'a build of the workspace is still pending or running (code CONFLICT)',
  })
  remove(@UuidParam('id') id: string, @CurrentSubject() subject: PrebuildsSubject) {
    return this.transition(id, 'delete', subject);
  }

  private async transition(id: string, transition: 'stop' | 'delete', subject: PrebuildsSubject) {
    const view = await this.workspaces.findWorkspace(id);
    // Only its owner or an owner may stop or delete it; anyone else learns nothing, as for reads.
    if (!view || !workspaceAccess.mayManage(subject, view.ownerId)) throw notFound(id);
    assertIdle(view, transition);
    let build;
    try {
      build = await this.builder.build({
        workspaceId: id,
        transition,
        initiatorId: subject.id,
        reason: 'initiator',
      });
    } catch (error) {
      // Deleted between the read and the build's row lock.
      if (/does not exist/.test((error as Error).message)) throw notFound(id);
      throw error;
    }
    return { workspaceId: id, transition, buildId: build.buildId, buildNumber: build.buildNumber };
  }
}

function notFound(id: string): PrebuildsException {
  return new PrebuildsException(PrebuildsErrorCode.WorkspaceNotFound, `workspace ${id} not found`);
}

/** One build at a time per workspace: a stop or delete over a pending or running build is a 409. */
function assertIdle(view: WorkspaceView, transition: string): void {
  if (IN_FLIGHT.has(view.latestBuild.jobStatus)) {
    throw new PrebuildsException(
      PrebuildsErrorCode.Conflict,
      `workspace ${view.id}: its ${view.latestBuild.transition} build is still ${view.latestBuild.jobStatus}; ` +
        `${transition} it once that build finishes`,
    );
  }
}
