import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { InjectPrebuildsDataSource } from './prebuilds-data-source.js';
import { PrebuildsNamespace } from './prebuilds-namespace.js';

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogLineInput {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface LogLineRow {
  id: number;
  createdAt: Date;
  stream: LogStream;
  text: string;
}

/** What an append did: lines kept, lines dropped by the bound, and whether the log is (now) truncated. */
export interface AppendResult {
  accepted: number;
  dropped: number;
  truncated: boolean;
}

/** The build behind `GET /workspaces/:id/builds/:number/logs`, with whom it may be shown to. */
export interface BuildLogTarget {
  ownerId: string;
  /** Null when the workspace has no build of that number. */
  jobId: string | null;
  jobStatus: string;
  ended: boolean;
  truncated: boolean;
}

export interface LogBounds {
  maxLines: number;
  maxBytes: number;
}

/** Build logs: one row per line, per provisioner job, bounded by the counters on the job row. */
@Injectable()
export class BuildLogRepository {
  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly ns: PrebuildsNamespace,
  ) {}

  /**
   * Appends `workerId`'s lines to a running job it holds, within `bounds` (lines and UTF-8 bytes per job); the first
   * line beyond them is replaced by one `system` marker and the rest dropped. The job row is locked for the append
   * (FOR NO KEY UPDATE: heartbeats and completion wait for it), so concurrent appends count right and no line lands
   * after the job ended. `lease_lost` when the worker does not hold the running job, `not_found` without a job.
   * Index: provisioner_jobs primary key; the insert feeds idx_job_logs_job.
   */
  async append(
    jobId: string,
    workerId: string,
    lines: LogLineInput[],
    bounds: LogBounds,
  ): Promise<AppendResult | 'lease_lost' | 'not_found'> {
    return this.dataSource.transaction(async (manager) => {
      const [job] = await manager.query(
        `SELECT worker_id AS "workerId", started_at IS NOT NULL AND completed_at IS NULL AS running,
                log_lines AS "lines", log_bytes::float8 AS "bytes", log_truncated AS truncated
           FROM ${this.ns.schema}.provisioner_jobs WHERE id = $1 FOR NO KEY UPDATE`,
        [jobId],
      );
      if (!job) return 'not_found';
      if (!job.running || job.workerId !== workerId) return 'lease_lost';
      let count: number = job.lines;
      let bytes: number = job.bytes;
      let truncated: boolean = job.truncated;
      const kept: { stream: LogStream; text: string }[] = [];
      for (const line of lines) {
        if (truncated) break;
        const size = Buffer.byteLength(line.text, 'utf8');
        // One line is kept back for the marker, so a truncated log still ends by saying so.
        if (count + 1 >= bounds.maxLines || bytes + size > bounds.maxBytes) {
          truncated = true;
          kept.push({
            stream: 'system',
            text: `log truncated: a build keeps at most ${bounds.maxLines} lines and ${bounds.maxBytes} bytes; later lines are dropped`,
          });
          count += 1;
          break;
        }
        kept.push(line);
        count += 1;
        bytes += size;
      }
      const accepted = kept.filter((line) => line.stream !== 'system').length;
      if (kept.length > 0) {
        await manager.query(
          `INSERT INTO ${this.ns.schema}.provisioner_job_logs (job_id, stream, text)
           SELECT $1, stream, text FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS x(stream, text, n) ORDER BY n`,
          [jobId, kept.map((line) => line.stream), kept.map((line) => line.text)],
        );
        await manager.query(
          `UPDATE ${this.ns.schema}.provisioner_jobs SET log_lines = $2, log_bytes = $3, log_truncated = $4 WHERE id = $1`,
          [jobId, count, bytes, truncated],
        );
      }
      return { accepted, dropped: lines.length - accepted, truncated };
    });
  }

  /**
   * A workspace's build by number, for reading its log: null for an unknown workspace, a null jobId for an unknown
   * number. Index: workspaces primary key; workspace_builds (workspace_id, build_number) unique.
   */
  async findTarget(workspaceId: string, buildNumber: number): Promise<BuildLogTarget | null> {
    const [row] = await this.dataSource.query(
      `SELECT w.owner_id AS "ownerId", b.job_id AS "jobId", j.job_status AS "jobStatus",
              j.completed_at IS NOT NULL AS ended, COALESCE(j.log_truncated, false) AS truncated
         FROM ${this.ns.schema}.workspaces w
         LEFT JOIN ${this.ns.schema}.workspace_builds b ON b.workspace_id = w.id AND b.build_number = $2
         LEFT JOIN ${this.ns.schema}.provisioner_jobs j ON j.id = b.job_id
        WHERE w.id = $1`,
      [workspaceId, buildNumber],
    );
    return row ?? null;
  }

  /** Whether a job has ended, and its status (polled while following a log). Index: provisioner_jobs primary key. */
  async jobState(jobId: string): Promise<{ jobStatus: string; ended: boolean; truncated: boolean }> {
    const [row] = await this.dataSource.query(
      `SELECT job_status AS "jobStatus", completed_at IS NOT NULL AS ended, log_truncated AS truncated
         FROM ${this.ns.schema}.provisioner_jobs WHERE id = $1`,
      [jobId],
    );
    return row;
  }

  /** A job's lines after `afterId`, in order, at most `limit`. Index: idx_job_logs_job (job_id, id). */
  async readLines(jobId: string, afterId: number, limit: number): Promise<LogLineRow[]> {
    const rows: (Omit<LogLineRow, 'id'> & { id: string })[] = await this.dataSource.query(
      `SELECT id, created_at AS "createdAt", stream, text FROM ${this.ns.schema}.provisioner_job_logs
        WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [jobId, afterId, limit],
    );
    return rows.map((row) => ({ ...row, id: Number(row.id) }));
  }
}
