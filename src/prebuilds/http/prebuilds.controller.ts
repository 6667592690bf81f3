import { Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { PrebuildsAdminService } from '../admin/prebuilds-admin.service.js';
import { PrebuildsStatusService } from '../admin/prebuilds-status.service.js';
import { PresetHistoryService } from '../admin/preset-history.service.js';
import { RequirePermission } from '../rbac/require-permission.decorator.js';
import { CurrentSubject, type PrebuildsSubject } from '../rbac/subject.js';
import { PresetHistoryQueryDto } from './dto/preset-history-query.dto.js';
import { ReconcileDto } from './dto/reconcile.dto.js';
import { PrebuildsSettingsDto } from './dto/settings.dto.js';
import { PrebuildsController } from './prebuilds-controller.decorator.js';
import { UuidParam } from './id-param.decorators.js';
import { StrictBody } from './strict-body.decorator.js';

/** Operating the pools. One line per route: the permission is declared, the work is the services'. */
@PrebuildsController('prebuilds')
export class PrebuildsAdminController {
  constructor(
    private readonly status: PrebuildsStatusService,
    private readonly admin: PrebuildsAdminService,
    private readonly history: PresetHistoryService,
  ) {}

  @Post('reconcile')
  @HttpCode(200)
  @RequirePermission('prebuilds:reconcile')
  @ApiOperation({ summary: 'Run a cycle now (409 RECONCILE_IN_PROGRESS when one is already running)' })
  @ApiBody({ type: ReconcileDto, required: false })
  reconcile(@StrictBody(ReconcileDto) dto: ReconcileDto) {
    return this.admin.reconcileNow(dto.templateId);
  }

  @Get('status')
  @RequirePermission('prebuilds:read')
  @ApiOperation({
    summary: 'Every pool, computed live: state, desired source, status, backoff, failed and stopped',
  })
  getStatus() {
    return this.status.status();
  }

  @Get('plan')
  @RequirePermission('prebuilds:read')
  @ApiOperation({ summary: 'Dry run: what a cycle would do now (pause ignored); executes nothing' })
  getPlan() {
    return this.status.plan();
  }

  @Get('presets/:id/workspaces')
  @RequirePermission('prebuilds:read')
  @ApiOperation({ summary: "A preset's prebuilds: running, in progress, failed, stopped" })
  presetWorkspaces(@UuidParam('id') presetId: string) {
    return this.status.presetPrebuilds(presetId);
  }

  @Get('presets/:id/history')
  @RequirePermission('prebuilds:read')
  @ApiOperation({
    summary:
      "A preset's pool over a window: desired, running, eligible, starting, claims and misses per bucket",
    description:
      'Sampled by every full reconcile cycle (any replica). `window` 1h (60 s buckets), 24h (15 min) or 7d (2 h); ' +
      'a bucket holds its last sample of the gauges and the claims and misses counted in it. Answers ' +
      '`{ presetId, window, resolutionSeconds, from, to, samples: [{ at, desired, running, eligible, starting, ' +
      'claims, misses }] }`, samples oldest first, `at` the bucket start.',
  })
  @ApiNotFoundResponse({ description: 'unknown preset (PRESET_NOT_FOUND)' })
  presetHistory(@UuidParam('id') presetId: string, @Query() query: PresetHistoryQueryDto) {
    return this.history.read(presetId, query.window ?? '1h');
  }

  @Get('settings')
  @RequirePermission('prebuilds:read')
  @ApiOkResponse({ type: PrebuildsSettingsDto })
  getSettings() {
    return this.admin.getSettings();
  }

  @Put('settings')
  @RequirePermission('prebuilds:admin')
  @ApiOkResponse({ type: PrebuildsSettingsDto })
  @ApiBody({ type: PrebuildsSettingsDto })
  putSettings(
    @StrictBody(PrebuildsSettingsDto) dto: PrebuildsSettingsDto,
    @CurrentSubject() subject: PrebuildsSubject,
  ) {
    return this.admin.setPaused(dto.reconciliationPaused, subject.id);
  }

  @Post('presets/:id/resume')
  @HttpCode(200)
  @RequirePermission('prebuilds:admin')
  @ApiOperation({ summary: 'Reset a hard-limited preset (a no-op for a healthy one)' })
  resume(@UuidParam('id') presetId: string, @CurrentSubject() subject: PrebuildsSubject) {
    return this.admin.resumePreset(presetId, subject.id);
  }
}
