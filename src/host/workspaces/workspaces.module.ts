import { Module } from '@nestjs/common';
import { WorkspaceViewRepository } from './workspace-view.repository.js';
import { WorkspacesController } from './workspaces.controller.js';

/** The host's workspace routes; creation goes through the prebuilds module's ClaimService. */
@Module({ controllers: [WorkspacesController], providers: [WorkspaceViewRepository] })
export class WorkspacesModule {}
