import { Get, Headers, Param, Query, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { BuildLogService } from '../provisioner/build-log.service.js';
import { CurrentSubject, type PrebuildsSubject } from '../rbac/subject.js';
import { BuildLogsQueryDto } from './dto/build-logs-query.dto.js';
import { UuidParam } from './id-param.decorators.js';
import { takeOverResponse } from './node-response.js';
import { PrebuildsController } from './prebuilds-controller.decorator.js';

/** Answers a comment line this often on a quiet stream, so proxies keep it open. */
const KEEPALIVE_MS = 15_000;

function buildNumberOf(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) {
    throw new PrebuildsException(
      PrebuildsErrorCode.ValidationFailed,
      'number must be a build number (1, 2, …)',
    );
  }
  return Number(value);
}

function lineIdOf(value: string | undefined, field: string): number {
  if (value === undefined || value === '') return 0;
  if (!/^\d{1,15}$/.test(value)) {
    throw new PrebuildsException(
      PrebuildsErrorCode.ValidationFailed,
      `${field} must be a line id (a non-negative integer)`,
    );
  }
  return Number(value);
}

@PrebuildsController('workspaces', 'workspaces')
export class BuildLogsController {
  constructor(
    private readonly logs: BuildLogService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Get(':id/builds/:number/logs')
  @ApiOperation({
    summary:
      "A build's log (the workspace's owner, or prebuilds:read); live as server-sent events with follow",
    description:
      'JSON by default. With `?follow=true` or `Accept: text/event-stream`: every line as an `event: log` ' +
      '(`id:` the line id, data `{ id, createdAt, stream, text }`), then one `event: end` (data `{ jobStatus, ' +
      'truncated }`) once the build has ended. Resume with `?after=` or `Last-Event-ID`.',
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({ description: '{ workspaceId, buildNumber, jobId, jobStatus, ended, truncated, lines }' })
  @ApiNotFoundResponse({
    description: 'unknown or unreadable workspace (WORKSPACE_NOT_FOUND), unknown build (BUILD_NOT_FOUND)',
  })
  async read(
    @UuidParam('id') workspaceId: string,
    @Param('number') number: string,
    @Query() query: BuildLogsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentSubject() subject: PrebuildsSubject,
    // The platform's response (Express's or Fastify's); its own type stays out of the module.
    @Res() platformResponse: object,
  ): Promise<void> {
    const buildNumber = buildNumberOf(number);
    const afterId = Math.max(lineIdOf(query.after, 'after'), lineIdOf(lastEventId, 'Last-Event-ID'));
    const build = await this.logs.authorizeRead(subject, workspaceId, buildNumber);
    const follow =
      query.follow === 'true' || (query.follow !== 'false' && /text\/event-stream/.test(accept ?? ''));
    if (!follow) {
      this.adapterHost.httpAdapter.reply(platformResponse, await this.logs.read(build, afterId), 200);
      return;
    }
    const response = takeOverResponse(platformResponse);
    const gone = new AbortController();
    response.on('close', () => gone.abort());
    response.statusCode = 200;
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    // Set here, since a taken-over response skips the host's hooks that add it to every other answer.
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader('X-Accel-Buffering', 'no');
    response.flushHeaders();
    response.write('retry: 1000\n\n');
    let lastWrite = performance.now();
    const keepalive = setInterval(() => {
      if (performance.now() - lastWrite >= KEEPALIVE_MS) response.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    try {
      for await (const item of this.logs.follow(build, afterId, gone.signal)) {
        lastWrite = performance.now();
        if ('line' in item)
          response.write(`id: ${item.line.id}\nevent: log\ndata: ${JSON.stringify(item.line)}\n\n`);
        else response.write(`event: end\ndata: ${JSON.stringify(item.end)}\n\n`);
      }
    } finally {
      clearInterval(keepalive);
      // Headers are out: an error can only end the stream (the filter logs it); a client that reconnects resumes.
      response.end();
    }
  }
}
