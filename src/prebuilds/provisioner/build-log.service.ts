import { Inject, Injectable } from '@nestjs/common';
import { BuildLogRepository, type LogLineRow } from '../database/build-log.repository.js';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import { type AuthorizeFunction, authorizerOf } from '../rbac/permissions.js';
import type { PrebuildsSubject } from '../rbac/subject.js';

/** How often a followed log is looked at again for new lines and for the end of its build. */
export const FOLLOW_POLL_MS = 250;
/** Lines read per query while following (a follower catches up in pages of this many). */
const FOLLOW_PAGE = 500;

export interface BuildLogLine {
  id: number;
  createdAt: string;
  stream: LogLineRow['stream'];
  text: string;
}

export interface BuildLog {
  workspaceId: string;
  buildNumber: number;
  jobId: string;
  jobStatus: string;
  /** The build has ended: no line will be added. */
  ended: boolean;
  /** Lines were dropped beyond the bound (the last line says so). */
  truncated: boolean;
  lines: BuildLogLine[];
}

/** A build the subject may read the log of. */
export interface ReadableBuild {
  workspaceId: string;
  buildNumber: number;
  jobId: string;
}

const lineOf = (row: LogLineRow): BuildLogLine => ({
  id: row.id,
  createdAt: new Date(row.createdAt).toISOString(),
  stream: row.stream,
  text: row.text,
});

/**
 * Build logs for people: the workspace's owner, or anyone holding `prebuilds:read` (a prebuild's logs are the
 * operators'; a claimed prebuild's earlier builds become its new owner's too). Anyone else gets the 404 of a missing
 * workspace, as the host's workspace routes answer, so that ids cannot be probed.
 */
@Injectable()
export class BuildLogService {
  private readonly authorize: AuthorizeFunction;

  constructor(
    private readonly logs: BuildLogRepository,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {
    this.authorize = authorizerOf(options.authorization);
  }

  /** The build, once the subject may read it; 404 WORKSPACE_NOT_FOUND or BUILD_NOT_FOUND otherwise. */
  async authorizeRead(
    subject: PrebuildsSubject,
    workspaceId: string,
    buildNumber: number,
  ): Promise<ReadableBuild> {
    const target = await this.logs.findTarget(workspaceId, buildNumber);
    const workspaceNotFound = () =>
      new PrebuildsException(PrebuildsErrorCode.WorkspaceNotFound, `workspace ${workspaceId} not found`);
    if (target === null) throw workspaceNotFound();
    if (target.ownerId !== subject.id && !(await this.authorize(subject, 'prebuilds:read'))) {
      throw workspaceNotFound();
    }
    if (target.jobId === null) {
      throw new PrebuildsException(
        PrebuildsErrorCode.BuildNotFound,
        `workspace ${workspaceId} has no build ${buildNumber}`,
      );
    }
    return { workspaceId, buildNumber, jobId: target.jobId };
  }

  /** The build's log after line `afterId` (every line it keeps is at most buildLogMaxLines). */
  async read(build: ReadableBuild, afterId = 0): Promise<BuildLog> {
    // The state first: when it says ended, every line is in before the lines are read.
    const state = await this.logs.jobState(build.jobId);
    const lines = await this.logs.readLines(build.jobId, afterId, this.options.buildLogMaxLines);
    return { ...build, ...state, lines: lines.map(lineOf) };
  }

  /**
   * The lines after `afterId` as they come, page by page, until the build has ended and every line was given, or
   * `signal` aborts. Yields `{ line }` per line and `{ end }` once at the end.
   */
  async *follow(
    build: ReadableBuild,
    afterId: number,
    signal: AbortSignal,
  ): AsyncGenerator<{ line: BuildLogLine } | { end: { jobStatus: string; truncated: boolean } }> {
    let last = afterId;
    while (!signal.aborted) {
      const state = await this.logs.jobState(build.jobId);
      for (;;) {
        const page = await this.logs.readLines(build.jobId, last, FOLLOW_PAGE);
        for (const row of page) {
          last = row.id;
          yield { line: lineOf(row) };
        }
        if (page.length < FOLLOW_PAGE || signal.aborted) break;
      }
      if (state.ended) {
        yield { end: { jobStatus: state.jobStatus, truncated: state.truncated } };
        return;
      }
      await pause(FOLLOW_POLL_MS, signal);
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
