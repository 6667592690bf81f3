import { HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  ApiBody,
  ApiConflictResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { AuthenticatedProvisionerKey } from '../provisioner/provisioner-key.service.js';
import { ProvisionerApiService } from '../provisioner/provisioner-api.service.js';
import {
  AcquireJobDto,
  AgentLifecycleDto,
  AppendLogsDto,
  CompleteJobDto,
  WorkerDto,
} from './dto/provisioner-job.dto.js';
import { UuidParam } from './id-param.decorators.js';
import { nodeResponseOf } from './node-response.js';
import {
  CurrentProvisionerKey,
  PROVISIONER_KEY_HEADER,
  ProvisionerKeyGuard,
} from './provisioner-key.guard.js';
import { PrebuildsController } from './prebuilds-controller.decorator.js';
import { StrictBody } from './strict-body.decorator.js';

const LEASE_LOST = 'the worker no longer holds the lease (code LEASE_LOST): drop the job';
const NOT_FOUND = 'no such job, or one whose tags the key does not match (code JOB_NOT_FOUND)';

/** The job API external provisioner daemons call, authenticated by their provisioner key. */
@PrebuildsController('provisioner', 'provisioners')
@UseGuards(ProvisionerKeyGuard)
@ApiHeader({ name: PROVISIONER_KEY_HEADER, required: true, description: 'pbk_… (POST /provisioner-keys)' })
@ApiUnauthorizedResponse({ description: 'missing, wrong or revoked key (code PROVISIONER_KEY_INVALID)' })
export class ProvisionerJobsController {
  constructor(
    private readonly api: ProvisionerApiService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Post('jobs/acquire')
  @ApiOperation({
    summary:
      "Take the oldest job the key's tags match (user jobs first), waiting up to waitMs (≤ 30 s) for one",
  })
  @ApiBody({ type: AcquireJobDto })
  @ApiOkResponse({ description: 'the job, now leased to the worker: heartbeat every heartbeatMs' })
  @ApiNoContentResponse({ description: 'no job within the window' })
  async acquire(
    @StrictBody(AcquireJobDto) dto: AcquireJobDto,
    @CurrentProvisionerKey() key: AuthenticatedProvisionerKey,
    // The platform's response (Express's or Fastify's); its own type stays out of the module.
    @Res() platformResponse: object,
  ): Promise<void> {
    const gone = new AbortController();
    const response = nodeResponseOf(platformResponse);
    response.on('close', () => {
      if (!response.writableFinished) gone.abort();
    });
    const job = await this.api.acquire(key, dto.workerId, dto.waitMs ?? 0, gone.signal);
    // A job taken for a daemon that left is not lost: its lease expires and the sweep puts it back in the queue.
    if (job) this.adapterHost.httpAdapter.reply(platformResponse, job, 200);
    else this.adapterHost.httpAdapter.reply(platformResponse, undefined, 204);
  }

  @Post('jobs/:id/heartbeat')
  @HttpCode(200)
  @ApiOperation({ summary: "Renew the worker's lease; `canceled` says to stop the build and complete it" })
  @ApiBody({ type: WorkerDto })
  @ApiOkResponse({ description: '{ leaseExpiresAt, canceled }' })
  @ApiConflictResponse({ description: LEASE_LOST })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  heartbeat(
    @UuidParam('id') jobId: string,
    @StrictBody(WorkerDto) dto: WorkerDto,
    @CurrentProvisionerKey() key: AuthenticatedProvisionerKey,
  ) {
    return this.api.heartbeat(key, jobId, dto.workerId);
  }

  @Post('jobs/:id/logs')
  @HttpCode(200)
  @ApiOperation({ summary: "Append lines to the build's log (bounded per build; beyond it, dropped)" })
  @ApiBody({ type: AppendLogsDto })
  @ApiOkResponse({ description: '{ accepted, dropped, truncated }' })
  @ApiConflictResponse({ description: LEASE_LOST })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  appendLogs(
    @UuidParam('id') jobId: string,
    @StrictBody(AppendLogsDto) dto: AppendLogsDto,
    @CurrentProvisionerKey() key: AuthenticatedProvisionerKey,
  ) {
    return this.api.appendLogs(key, jobId, dto.workerId, dto.lines);
  }

  @Post('jobs/:id/complete')
  @HttpCode(200)
  @ApiOperation({
    summary: 'End the job: succeeded, or failed with an error; the same completion again is a no-op',
  })
  @ApiBody({ type: CompleteJobDto })
  @ApiOkResponse({ description: '{ jobId, status, repeated, agents: [{ id }] }' })
  @ApiConflictResponse({ description: `${LEASE_LOST}; or JOB_ALREADY_COMPLETED with another outcome` })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  complete(
    @UuidParam('id') jobId: string,
    @StrictBody(CompleteJobDto) dto: CompleteJobDto,
    @CurrentProvisionerKey() key: AuthenticatedProvisionerKey,
  ) {
    return this.api.complete(key, jobId, dto.workerId, dto.outcome);
  }

  @Post('jobs/:id/release')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Give a running job back (a daemon shutting down): pending again at once, the attempt not counted',
  })
  @ApiBody({ type: WorkerDto })
  @ApiOkResponse({ description: "{ jobId, outcome: 'requeued' | 'canceled' }" })
  @ApiConflictResponse({ description: LEASE_LOST })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  release(
    @UuidParam('id') jobId: string,
    @StrictBody(WorkerDto) dto: WorkerDto,
    @CurrentProvisionerKey() key: AuthenticatedProvisionerKey,
  ) {
    return this.api.release(key, jobId, dto.workerId);
  }

  @Post('agents/:id/lifecycle')
  @HttpCode(200)
  @ApiOperation({ summary: "Report an agent's lifecycle; all agents ready makes a prebuild claimable" })
  @ApiBody({ type: AgentLifecycleDto })
  @ApiOkResponse({ description: '{ agentId, lifecycleState }' })
  @ApiNotFoundResponse({
    description: 'no such agent, or one of a job the key cannot see (code AGENT_NOT_FOUND)',
  })
  agentLifecycle(
    @UuidParam('id') agentId: string,
    @StrictBody(AgentLifecycleDto) dto: AgentLifecycleDto,
    @CurrentProvisionerKey() key: AuthenticatedProvisionerKey,
  ) {
    return this.api.reportAgentLifecycle(key, agentId, dto.state);
  }
}
