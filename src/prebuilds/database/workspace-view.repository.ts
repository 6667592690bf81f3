import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Transition } from '../state/types.js';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

/** A workspace as the host's GET /workspaces/:id shows it (DESIGN.md, response shapes). */
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
    transition: Transition;
    jobStatus: string;
    templateVersionId: string;
  };
  agents: { id: string; lifecycleState: string }[];
}

/** Reads of one workspace for the host's routes. */
@Injectable()
export class WorkspaceViewRepository {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  /** A live workspace with its latest build, job status and that build's agents; null when absent or deleted. */
  async findById(workspaceId: string): Promise<WorkspaceView | null> {
    const [row] = await this.dataSource.query(
      `SELECT w.id, w.name, w.owner_id AS "ownerId", w.template_id AS "templateId", w.preset_id AS "presetId",
              w.created_at AS "createdAt",
              json_build_object('id', b.id, 'buildNumber', b.build_number, 'transition', b.transition,
                                'jobStatus', j.job_status, 'templateVersionId', b.template_version_id) AS "latestBuild",
              COALESCE((SELECT json_agg(json_build_object('id', a.id, 'lifecycleState', a.lifecycle_state) ORDER BY a.created_at)
                          FROM ${this.ns.schema}.workspace_agents a WHERE a.job_id = b.job_id), '[]') AS agents
         FROM ${this.ns.schema}.workspaces w
         JOIN ${this.ns.schema}.workspace_builds b ON b.id = w.latest_build_id
         JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = b.job_id
        WHERE w.id = $1 AND NOT w.deleted`,
      [workspaceId],
    );
    return row ?? null;
  }
}
