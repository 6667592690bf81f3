import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import type { Transition } from '../state/types.js';
import type { AcquiredJob, AgentLifecycleReport, JobStatus } from './provisioner-job.types.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';
import { IS_PREBUILD_TAG } from './job-tags.js';

/**
 * The jobs a provisioner key may take: those whose tags (but `is_prebuild`) are all among `tags`, and, when
 * `prebuild` is set, only prebuild jobs (true) or only user jobs (false).
 */
export interface JobTagFilter {
  tags: Record<string, string>;
  prebuild: boolean | null;
}

/** The SQL of JobTagFilter over a provisioner_jobs alias, with the parameters filterParameters gives. */
function jobMatchesTagsSql(alias: string, tagsParam: string, prebuildParam: string): string {
  return `((${alias}.tags - '${IS_PREBUILD_TAG}') <@ ${tagsParam}::jsonb
           AND (${prebuildParam}::text IS NULL
                OR COALESCE(${alias}.tags ->> '${IS_PREBUILD_TAG}', 'false') = ${prebuildParam}::text))`;
}

function filterParameters(filter: JobTagFilter): [string, string | null] {
  return [JSON.stringify(filter.tags), filter.prebuild === null ? null : String(filter.prebuild)];
}

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
  /** The worker holding (or last holding) the job; null while pending. */
  workerId: string | null;
  attempts: number;
  error: string | null;
}

/** A job the lease sweep recovered: back in the queue, or ended (`provisioner_lost`, or `canceled`). */
export interface SweptJob {
  jobId: string;
  outcome: 'requeued' | 'provisioner_lost' | 'canceled';
  templateId: string;
  presetId: string | null;
}

/** The provisioner side of jobs: acquisition, completion and what completion writes (agents, deletion). */
@Injectable()
export class ProvisionerJobRepository {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  /**
   * Takes the oldest pending job for `workerId`, with its build: user jobs (claims' builds, users' creates, stops and
   * deletes) before prebuild jobs, so prebuild work never starves a user. The worker gets a lease in database time
   * (`now()` + `leaseMs`) and the job's attempt counter goes up. SKIP LOCKED lets concurrent daemons each take a
   * different job instead of queueing on the same row; a job canceled before it was taken never qualifies. The second
   * candidate is only looked for when there is no user job (COALESCE evaluates lazily).
   * Index: idx_jobs_pending (created_at, partial on started_at IS NULL AND canceled_at IS NULL) finds the jobs, in
   * order; the unique index on workspace_builds.job_id tells their initiator; the workspaces primary key and
   * workspace_build_parameters' primary key (build_id, name) join the rest.
   */
  async acquireOldestPending(
    workerId: string,
    now: Date,
    leaseMs: number,
    filter?: JobTagFilter,
  ): Promise<AcquiredJob | null> {
    // With a filter (a provisioner key's tags): only jobs whose tags the key matches, and only the kinds its
    // is_prebuild allows; the other candidate is left out rather than scanned for nothing.
    const tagged = filter ? `AND ${jobMatchesTagsSql('cj', '$4', '$5')}` : '';
    const candidate = (userJobs: boolean) =>
      `(SELECT cj.id FROM ${this.ns.schema}.provisioner_jobs cj
          JOIN ${this.ns.schema}.workspace_builds cb ON cb.job_id = cj.id
         WHERE cj.started_at IS NULL AND cj.canceled_at IS NULL
           AND cb.initiator_id ${userJobs ? '<>' : '='} ${this.ns.owner} ${tagged}
         ORDER BY cj.created_at, cj.id
         LIMIT 1
           FOR UPDATE OF cj SKIP LOCKED)`;
    const candidates = [
      ...(filter?.prebuild === true ? [] : [candidate(true)]),
      ...(filter?.prebuild === false ? [] : [candidate(false)]),
    ];
    const [row] = await this.dataSource.query(
      `WITH acquired AS (
         UPDATE ${this.ns.schema}.provisioner_jobs
            SET started_at = $2, updated_at = $2, worker_id = $1, acquired_at = now(),
                lease_expires_at = now() + make_interval(secs => $3::double precision / 1000),
                attempts = attempts + 1
          WHERE id = COALESCE(${candidates.join(', ')})
         RETURNING id, attempts, lease_expires_at, tags
       )
       SELECT a.id AS "jobId", b.id AS "buildId", b.workspace_id AS "workspaceId", w.template_id AS "templateId",
              b.template_version_id AS "templateVersionId", b.preset_id AS "presetId", b.transition,
              b.build_number AS "buildNumber",
              COALESCE((SELECT json_object_agg(bp.name, bp.value) FROM ${this.ns.schema}.workspace_build_parameters bp
                         WHERE bp.build_id = b.id), '{}') AS parameters,
              a.attempts AS attempt, a.lease_expires_at AS "leaseExpiresAt", a.tags
         FROM acquired a
         JOIN ${this.ns.schema}.workspace_builds b ON b.job_id = a.id
         JOIN ${this.ns.schema}.workspaces w ON w.id = b.workspace_id`,
      [workerId, now, leaseMs, ...(filter ? filterParameters(filter) : [])],
    );
    return row ?? null;
  }

  /**
   * Whether a job exists and whether a key with `filter` may see it (the predicate acquisition uses). Index:
   * provisioner_jobs primary key.
   */
  async findJobVisibility(jobId: string, filter: JobTagFilter): Promise<{ visible: boolean } | null> {
    const [row] = await this.dataSource.query(
      `SELECT ${jobMatchesTagsSql('j', '$2', '$3')} AS visible FROM ${this.ns.schema}.provisioner_jobs j WHERE j.id = $1`,
      [jobId, ...filterParameters(filter)],
    );
    return row ?? null;
  }

  /**
   * The job behind an agent, and whether a key with `filter` may see it. Index: workspace_agents and
   * provisioner_jobs primary keys.
   */
  async findAgentVisibility(agentId: string, filter: JobTagFilter): Promise<{ visible: boolean } | null> {
    const [row] = await this.dataSource.query(
      `SELECT ${jobMatchesTagsSql('j', '$2', '$3')} AS visible
         FROM ${this.ns.schema}.workspace_agents a JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = a.job_id
        WHERE a.id = $1`,
      [agentId, ...filterParameters(filter)],
    );
    return row ?? null;
  }

  /**
   * Renews `workerId`'s lease on a running job (database time). Null when the worker does not hold it (any more):
   * the job is unknown, completed, back in the queue, or another worker's. Index: provisioner_jobs primary key.
   */
  async renewLease(
    jobId: string,
    workerId: string,
    leaseMs: number,
  ): Promise<{ leaseExpiresAt: Date; canceled: boolean } | null> {
    const [rows]: [{ leaseExpiresAt: Date; canceled: boolean }[], number] = await this.dataSource.query(
      `UPDATE ${this.ns.schema}.provisioner_jobs
          SET lease_expires_at = now() + make_interval(secs => $3::double precision / 1000)
        WHERE id = $1 AND worker_id = $2 AND started_at IS NOT NULL AND completed_at IS NULL
       RETURNING lease_expires_at AS "leaseExpiresAt", canceled_at IS NOT NULL AS canceled`,
      [jobId, workerId, leaseMs],
    );
    return rows[0] ?? null;
  }

  /**
   * Gives a running job back (a daemon shutting down): pending again at once, this acquisition not counted against
   * `provisionerMaxAttempts`; a job canceled while it ran ends canceled instead. Null when `workerId` does not hold
   * it. Index: provisioner_jobs primary key.
   */
  async releaseLease(
    jobId: string,
    workerId: string,
    now: Date,
  ): Promise<{ outcome: 'requeued' | 'canceled'; templateId: string; presetId: string | null } | null> {
    const rows: { outcome: 'requeued' | 'canceled'; templateId: string; presetId: string | null }[] =
      await this.dataSource.query(
        `WITH released AS (
           UPDATE ${this.ns.schema}.provisioner_jobs
              SET started_at = CASE WHEN canceled_at IS NULL THEN NULL ELSE started_at END,
                  completed_at = CASE WHEN canceled_at IS NULL THEN NULL ELSE $3::timestamptz END,
                  failure_kind = CASE WHEN canceled_at IS NULL THEN NULL ELSE 'canceled' END,
                  attempts = CASE WHEN canceled_at IS NULL THEN GREATEST(attempts - 1, 0) ELSE attempts END,
                  worker_id = NULL, acquired_at = NULL, lease_expires_at = NULL, updated_at = $3
            WHERE id = $1 AND worker_id = $2 AND started_at IS NOT NULL AND completed_at IS NULL
           RETURNING id, CASE WHEN canceled_at IS NULL THEN 'requeued' ELSE 'canceled' END AS outcome
         )
         SELECT r.outcome, w.template_id AS "templateId", b.preset_id AS "presetId"
           FROM released r
           JOIN ${this.ns.schema}.workspace_builds b ON b.job_id = r.id
           JOIN ${this.ns.schema}.workspaces w ON w.id = b.workspace_id`,
        [jobId, workerId, now],
      );
    return rows[0] ?? null;
  }

  /** Who holds a job now, to explain a refused heartbeat. Index: provisioner_jobs primary key. */
  async findHolder(
    jobId: string,
  ): Promise<{ workerId: string | null; startedAt: Date | null; completedAt: Date | null } | null> {
    const [row] = await this.dataSource.query(
      `SELECT worker_id AS "workerId", started_at AS "startedAt", completed_at AS "completedAt"
         FROM ${this.ns.schema}.provisioner_jobs WHERE id = $1`,
      [jobId],
    );
    return row ?? null;
  }

  /**
   * Recovers running jobs whose lease expired (database time): back to pending while attempts remain, failed as
   * `provisioner_lost` after `maxAttempts`; a job canceled while it ran ends canceled. SKIP LOCKED: a job being
   * completed right now is left to its completion. Index: idx_jobs_lease.
   */
  async sweepExpiredLeases(maxAttempts: number, now: Date): Promise<SweptJob[]> {
    // A WITH … SELECT: TypeORM answers it with the rows themselves.
    const rows: SweptJob[] = await this.dataSource.query(
      `WITH expired AS (
         SELECT id, attempts, canceled_at FROM ${this.ns.schema}.provisioner_jobs
          WHERE started_at IS NOT NULL AND completed_at IS NULL AND lease_expires_at < now()
            FOR UPDATE SKIP LOCKED
       ), requeued AS (
         UPDATE ${this.ns.schema}.provisioner_jobs j
            SET started_at = NULL, worker_id = NULL, acquired_at = NULL, lease_expires_at = NULL, updated_at = $2
           FROM expired e
          WHERE j.id = e.id AND e.canceled_at IS NULL AND e.attempts < $1
         RETURNING j.id, 'requeued'::text AS outcome
       ), ended AS (
         UPDATE ${this.ns.schema}.provisioner_jobs j
            SET completed_at = $2, updated_at = $2, lease_expires_at = NULL, worker_id = NULL,
                failure_kind = CASE WHEN e.canceled_at IS NULL THEN 'provisioner_lost' ELSE 'canceled' END,
                error = CASE WHEN e.canceled_at IS NULL
                             THEN COALESCE(j.error, 'provisioner lost: its lease expired ' || e.attempts || ' times')
                             ELSE j.error END
           FROM expired e
          WHERE j.id = e.id AND (e.canceled_at IS NOT NULL OR e.attempts >= $1)
         RETURNING j.id, j.failure_kind AS outcome
       ), swept AS (SELECT * FROM requeued UNION ALL SELECT * FROM ended)
       SELECT s.id AS "jobId", s.outcome, w.template_id AS "templateId", b.preset_id AS "presetId"
         FROM swept s
         JOIN ${this.ns.schema}.workspace_builds b ON b.job_id = s.id
         JOIN ${this.ns.schema}.workspaces w ON w.id = b.workspace_id`,
      [maxAttempts, now],
    );
    return rows;
  }

  /**
   * Locks a job row for completion, so that two completions of one job serialise and the second sees the first.
   * Index: provisioner_jobs primary key; workspace_builds.job_id unique index; workspaces primary key.
   */
  async lockJob(manager: EntityManager, jobId: string): Promise<LockedJob | null> {
    const [row] = await manager.query(
      `SELECT j.id AS "jobId", b.id AS "buildId", b.workspace_id AS "workspaceId", w.template_id AS "templateId",
              b.preset_id AS "presetId", b.transition, (b.initiator_id = ${this.ns.owner}) AS "isPrebuild",
              j.started_at AS "startedAt", j.worker_id AS "workerId", j.attempts, j.error,
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
      `UPDATE ${this.ns.schema}.provisioner_jobs
          SET completed_at = $2, updated_at = $2, error = $3, lease_expires_at = NULL,
              failure_kind = CASE WHEN canceled_at IS NOT NULL THEN 'canceled'
                                  WHEN $3::text IS NOT NULL THEN 'build' END
        WHERE id = $1
       RETURNING job_status AS status`,
      [jobId, now, error],
    );
    return rows[0].status;
  }

  /**
   * Fails jobs whose current holder took them more than `timeoutMs` ago (database time) and never completed, as
   * `timeout`: an infrastructure failure, which counts for neither backoff nor the hard limit. Index:
   * idx_jobs_lease (running jobs).
   */
  async failStaleJobs(
    timeoutMs: number,
    now: Date,
  ): Promise<{ jobId: string; templateId: string; presetId: string | null }[]> {
    const [rows] = await this.dataSource.query(
      `UPDATE ${this.ns.schema}.provisioner_jobs j
          SET completed_at = $2, updated_at = $2, lease_expires_at = NULL, worker_id = NULL,
              failure_kind = CASE WHEN j.canceled_at IS NULL THEN 'timeout' ELSE 'canceled' END,
              error = COALESCE(j.error, 'timeout: the job did not complete within the job timeout')
         FROM ${this.ns.schema}.workspace_builds b JOIN ${this.ns.schema}.workspaces w ON w.id = b.workspace_id
        WHERE b.job_id = j.id AND j.started_at IS NOT NULL AND j.completed_at IS NULL
          AND COALESCE(j.acquired_at, j.started_at) < now() - make_interval(secs => $1::double precision / 1000)
        RETURNING j.id AS "jobId", w.template_id AS "templateId", b.preset_id AS "presetId"`,
      [timeoutMs, now],
    );
    return rows;
  }

  /** The agent a successful start brings up, in lifecycle `created`. Index: none needed (insert). */
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

  /** setAgentLifecycle by itself, outside any transaction (an agent's report). */
  setAgentLifecycleAlone(agentId: string, state: AgentLifecycleReport, now: Date): Promise<boolean> {
    return this.setAgentLifecycle(this.dataSource.manager, agentId, state, now);
  }

  /** The agents a job brought up, oldest first. Index: idx_agents_job (job_id, lifecycle_state). */
  async findAgentIdsOfJob(jobId: string): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM ${this.ns.schema}.workspace_agents WHERE job_id = $1 ORDER BY created_at, id`,
      [jobId],
    );
    return rows.map((row) => row.id);
  }
}
