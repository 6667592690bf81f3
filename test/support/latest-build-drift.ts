import type { DataSource } from 'typeorm';

/** A live workspace whose copy of its latest build's state (migration 1765600000000-LatestBuildState) is wrong. */
export interface LatestBuildDrift {
  workspaceId: string;
  copied: string;
  actual: string;
}

/**
 * Every live workspace whose latest_* columns differ from the build its pointer names and that build's job: empty
 * when the triggers and writers kept the copy true. The claim, the snapshot and the status read only the copy.
 */
export async function findLatestBuildDrift(ds: Pick<DataSource, 'query'>): Promise<LatestBuildDrift[]> {
  return ds.query(
    `SELECT w.id AS "workspaceId",
            concat_ws(' ', w.latest_transition, w.latest_build_number, w.latest_version_id, w.latest_job_status,
                      w.latest_agents_ready) AS copied,
            concat_ws(' ', b.transition, b.build_number, b.template_version_id, j.job_status, j.agents_ready) AS actual
       FROM prebuilds.workspaces w
       LEFT JOIN prebuilds.workspace_builds b ON b.id = w.latest_build_id
       LEFT JOIN prebuilds.provisioner_jobs j ON j.id = b.job_id
      WHERE NOT w.deleted
        AND (w.latest_transition, w.latest_build_number, w.latest_version_id, w.latest_job_status,
             w.latest_agents_ready)
            IS DISTINCT FROM (b.transition, b.build_number, b.template_version_id, j.job_status,
                              COALESCE(j.agents_ready, false))`,
  );
}
