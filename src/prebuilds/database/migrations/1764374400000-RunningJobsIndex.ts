import { MigrationInterface, QueryRunner } from 'typeorm';

/** Serves the stale-job sweep (ProvisionerJobRepository.failStaleJobs): running jobs by start time. */
export class RunningJobsIndex1764374400000 implements MigrationInterface {
  name = 'RunningJobsIndex1764374400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX idx_jobs_running ON provisioner_jobs (started_at)
         WHERE started_at IS NOT NULL AND completed_at IS NULL`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idx_jobs_running`);
  }
}
