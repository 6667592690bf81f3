import { afterEach, describe, expect, it } from '@jest/globals';
import { type INestApplication, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { MetricsController } from './metrics.controller.js';
import { PREBUILDS_METRICS_TOKEN } from './metrics-token.guard.js';
import { PrebuildsMetricsService } from '../metrics/prebuilds-metrics.service.js';

async function appWith(token: string | null): Promise<INestApplication> {
  Logger.overrideLogger(false);
  const moduleRef = await Test.createTestingModule({
    controllers: [MetricsController],
    providers: [PrebuildsMetricsService, { provide: PREBUILDS_METRICS_TOKEN, useValue: token }],
  }).compile();
  const app = moduleRef.createNestApplication();
  app.setGlobalPrefix('api/v2');
  await app.init();
  app.get(PrebuildsMetricsService).recordCreated({ organization: 'o', template: 't', preset: 'p' }, 2);
  return app;
}

describe('GET /metrics', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('serves the Prometheus text format without a token by default', async () => {
    app = await appWith(null);
    const res = await request(app.getHttpServer()).get('/api/v2/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.text).toContain('prebuilds_created_total{organization="o",template="t",preset="p"} 2');
  });

  it('requires the configured token, answering 401 in our error shape', async () => {
    app = await appWith('scrape-secret-123');
    const denied = await request(app.getHttpServer()).get('/api/v2/metrics').expect(401);
    expect(denied.body).toEqual({
      statusCode: 401,
      code: 'UNAUTHENTICATED',
      message: 'metrics token required',
    });
    await request(app.getHttpServer())
      .get('/api/v2/metrics')
      .set('Authorization', 'Bearer wrong')
      .expect(401);
    const res = await request(app.getHttpServer())
      .get('/api/v2/metrics')
      .set('Authorization', 'Bearer scrape-secret-123')
      .expect(200);
    expect(res.text).toContain('prebuilds_created_total');
  });
});
