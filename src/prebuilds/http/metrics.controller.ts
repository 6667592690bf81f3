import { Get, Header, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { PrebuildsController } from './prebuilds-controller.decorator.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';
import { PrebuildsMetricsService } from '../metrics/prebuilds-metrics.service.js';

@PrebuildsController('metrics')
export class MetricsController {
  constructor(private readonly metrics: PrebuildsMetricsService) {}

  @Get()
  @UseGuards(MetricsTokenGuard)
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiProduces(Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiBearerAuth()
  @ApiOkResponse({ description: 'Prometheus text format', schema: { type: 'string' } })
  @ApiUnauthorizedResponse({ description: 'a metrics token is configured and the request lacks it' })
  scrape(): Promise<string> {
    return this.metrics.metrics();
  }
}
