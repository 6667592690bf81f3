import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface WorkspaceView {
  id: string;
  name: string;
  ownerId: string;
  templateId: string;
  presetId: string | null;
  createdAt: Date;
  latestBuild: {
    id: string;
    buildNumber: number;
    transition: 'start' | 'stop' | 'delete';
    jobStatus: string;
    templateVersionId: string;
  };
  agents: { id: string; lifecycleState: string }[];
}

@Injectable()
export class WorkspaceViewRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A live workspace with its latest build, job status and that build's agents; null when absent or deleted. */
  async findById(workspaceId: string): Promise<WorkspaceView | null> {
    const [row] = await this.dataSource.query(
      `SELECT w.id, w.name, w.owner_id AS "ownerId", w.template_id AS "templateId", w.preset_id AS "presetId",
              w.created_at AS "createdAt",
              json_build_object('id', b.id, 'buildNumber', b.build_number, 'transition', b.transition,
                                'jobStatus', j.job_status, 'templateVersionId', b.template_version_id) AS "latestBuild",
              COALESCE((SELECT json_agg(json_build_object('id', a.id, 'lifecycleState', a.lifecycle_state) ORDER BY a.created_at)
                          FROM workspace_agents a WHERE a.job_id = b.job_id), '[]') AS agents
         FROM workspaces w
         JOIN workspace_builds b ON b.id = w.latest_build_id
         JOIN provisioner_jobs j ON j.id = b.job_id
        WHERE w.id = $1 AND NOT w.deleted`,
      [workspaceId],
    );
    return row ?? null;
  }
}
