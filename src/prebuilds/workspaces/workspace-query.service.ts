import { Injectable } from '@nestjs/common';
import { type WorkspaceView, WorkspaceViewRepository } from '../database/workspace-view.repository.js';

/** What a host reads about one workspace (its own or a claimed prebuild): latest build, job status, agents. */
@Injectable()
export class WorkspaceQueryService {
  constructor(private readonly views: WorkspaceViewRepository) {}

  /** A live workspace, or null when it does not exist or was deleted. The host decides who may see it. */
  findWorkspace(workspaceId: string): Promise<WorkspaceView | null> {
    return this.views.findById(workspaceId);
  }
}
