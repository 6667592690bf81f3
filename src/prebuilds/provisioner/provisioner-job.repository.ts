import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Transition } from '../state/types.js';
import type { AcquiredJob, AgentLifecycleReport, JobStatus } from './provisioner-job.types.js';
import { PrebuildsNamespace } from '../database/prebuilds-namespace.js';

/** A job locked for completion, with what completing it touches. */
export interface LockedJob {
  jobId: string;
  buildId: string;
  workspaceId: string;
  templateId: string;
  presetId: string | null;
  transition: Transition;
  /** The build was started by the prebuilds user (a prebuild's own build, not a claim). */
  isPrebuild: boolean;
  startedAt: Date | null;
  completedAt: Date | null;
  canceledAt: Date | null;
}

/** The provisioner side of jobs: acquisition, completion and what completion writes (agents, deletion). */
@Injectable()
export class ProvisionerJobRepository {
  constructor(private readonly ns: PrebuildsNamespace) {}

  /**
   * Takes the oldest pending job for `workerId`, with its build. SKIP LOCKED lets concurrent daemons each take a
   * different job instead of queueing on the same row; a job canceled before it was taken never qualifies.
   * Index: idx_jobs_pending (created_at, partial on started_at IS NULL AND canceled_at IS NULL) finds the job;
   * the unique index on workspace_builds.job_id, the workspaces primary key and workspace_build_parameters' primary
   * key (build_id, name) join the rest.
   */
  async acquireOldestPending(
    manager: EntityManager,
    workerId: string,
    now: Date,
  ): Promise<AcquiredJob | null> {
    const [row] = await manager.query(
      `WITH acquired AS (
         UPDATE ${this.ns.schema}.provisioner_jobs SET started_at = $2, updated_at = $2, worker_id = $1
          WHERE id = (SELECT id FROM ${this.ns.schema}.provisioner_jobs
                       WHERE started_at IS NULL AND canceled_at IS NULL
                       ORDER BY created_at, id
                       LIMIT 1
                         FOR UPDATE SKIP LOCKED)
         RETURNING id
       )
       SELECT a.id AS "jobId", b.id AS "buildId", b.workspace_id AS "workspaceId", w.template_id AS "templateId",
              b.template_version_id AS "templateVersionId", b.preset_id AS "presetId", b.transition,
              b.build_number AS "buildNumber",
              COALESCE((SELECT json_object_agg(bp.name, bp.value) FROM ${this.ns.schema}.workspace_build_parameters bp
                         WHERE bp.build_id = b.id), '{}') AS parameters
         FROM acquired a
         JOIN ${this.ns.schema}.workspace_builds b ON b.job_id = a.id
         JOIN ${this.ns.schema}.workspaces w ON w.id = b.workspace_id`,
      [workerId, now],
    );
    return row ?? null;
  }

  /**
   * Locks a job row for completion, so that two completions of one job serialise and the second sees the first.
   * Index: provisioner_jobs primary key; workspace_builds.job_id unique index; workspaces primary key.
   */
  async lockJob(manager: EntityManager, jobId: string): Promise<LockedJob | null> {
    const [row] = await manager.query(
      `SELECT j.id AS "jobId", b.id AS "buildId", b.workspace_id AS "workspaceId", w.template_id AS "templateId",
              b.preset_id AS "presetId", b.transition, (b.initiator_id = ${this.ns.owner}) AS "isPrebuild",
              j.started_at AS "startedAt",
              j.completed_at AS "completedAt", j.canceled_at AS "canceledAt"
         FROM ${this.ns.schema}.provisioner_jobs j
         JOIN ${this.ns.schema}.workspace_builds b ON b.job_id = j.id
         JOIN ${this.ns.schema}.workspaces w ON w.id = b.workspace_id
        WHERE j.id = $1
          FOR UPDATE OF j`,
      [jobId],
    );
    return row ?? null;
  }

  /**
   * Records the end of a job; the status is what the generated column derives (a job canceled while it ran ends
   * `canceled` whatever the outcome). Index: provisioner_jobs primary key.
   */
  async markCompleted(
    manager: EntityManager,
    jobId: string,
    error: string | null,
    now: Date,
  ): Promise<JobStatus> {
    // TypeORM answers an UPDATE with [rows, rowCount].
    const [rows]: [{ status: JobStatus }[], number] = await manager.query(
      `UPDATE ${this.ns.schema}.provisioner_jobs SET completed_at = $2, updated_at = $2, error = $3 WHERE id = $1
       RETURNING job_status AS status`,
      [jobId, now, error],
    );
    return rows[0].status;
  }

  /** The agent a successful start brings up, in lifecycle `created`. Index: none needed (insert). */
  /**
   * Fails jobs that started before `startedBefore` and never completed: their provisioner died or lost them, and
   * without this their workspaces would stay "starting" forever and block the pool. Index: idx_jobs_running.
   */
  async failStaleJobs(
    manager: EntityManager,
    startedBefore: Date,
    now: Date,
  ): Promise<{ jobId: string; templateId: string; presetId: string | null }[]> {
    const [rows] = await manager.query(
      `UPDATE ${this.ns.schema}.provisioner_jobs j
          SET completed_at = $2, updated_at = $2,
              error = COALESCE(j.error, 'provisioner lost: the job did not complete within the job timeout')
         FROM ${this.ns.schema}.workspace_builds b JOIN ${this.ns.schema}.workspaces w ON w.id = b.workspace_id
        WHERE b.job_id = j.id AND j.started_at IS NOT NULL AND j.completed_at IS NULL AND j.started_at < $1
        RETURNING j.id AS "jobId", w.template_id AS "templateId", b.preset_id AS "presetId"`,
      [startedBefore, now],
    );
    return rows;
  }

  async insertAgent(manager: EntityManager, jobId: string, now: Date): Promise<string> {
    const [row] = await manager.query(
      `INSERT INTO ${this.ns.schema}.workspace_agents (job_id, lifecycle_state, created_at) VALUES ($1, 'created', $2) RETURNING id`,
      [jobId, now],
    );
    return row.id;
  }

  /** A successful delete build removes the workspace. Index: workspaces primary key. */
  async markWorkspaceDeleted(manager: EntityManager, workspaceId: string, now: Date): Promise<void> {
    await manager.query(
      `UPDATE ${this.ns.schema}.workspaces SET deleted = true, updated_at = $2 WHERE id = $1`,
      [workspaceId, now],
    );
  }

  /**
   * Sets an agent's lifecycle; `ready` also stamps ready_at (the first time only). False when there is no such agent.
   * Index: workspace_agents primary key.
   */
  async setAgentLifecycle(
    manager: EntityManager,
    agentId: string,
    state: AgentLifecycleReport,
    now: Date,
  ): Promise<boolean> {
    const [, count]: [unknown[], number] = await manager.query(
      `UPDATE ${this.ns.schema}.workspace_agents
          SET lifecycle_state = $2,
              ready_at = CASE WHEN $2 = 'ready' THEN COALESCE(ready_at, $3) ELSE ready_at END
        WHERE id = $1`,
      [agentId, state, now],
    );
    return count > 0;
  }

  /** The agents a job brought up, oldest first. Index: idx_agents_job (job_id, lifecycle_state). */
  async findAgentIdsOfJob(manager: EntityManager, jobId: string): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM ${this.ns.schema}.workspace_agents WHERE job_id = $1 ORDER BY created_at, id`,
      [jobId],
    );
    return rows.map((row) => row.id);
  }
}
