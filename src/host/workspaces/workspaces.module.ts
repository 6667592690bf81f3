import { Module } from '@nestjs/common';
import { WorkspacesController } from './workspaces.controller.js';

/** The host's workspace routes; creation goes through the prebuilds module's ClaimService, reads through its WorkspaceQueryService. */
@Module({ controllers: [WorkspacesController] })
export class WorkspacesModule {}
