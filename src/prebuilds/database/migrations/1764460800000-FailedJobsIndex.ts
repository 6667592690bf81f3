import { MigrationInterface, QueryRunner } from 'typeorm';

/** Serves the snapshot's failure states: only presets with a failed prebuild start are examined. */
export class FailedJobsIndex1764460800000 implements MigrationInterface {
  name = 'FailedJobsIndex1764460800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX idx_jobs_failed ON provisioner_jobs (id) WHERE job_status = 'failed'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idx_jobs_failed`);
  }
}
