import { Injectable, Logger } from '@nestjs/common';
import { PrebuildsErrorCode, PrebuildsException, type VersionInput } from 'nest-prebuilds';
import { TemplatesService } from '../templates/templates.service.js';

export const DEMO_TEMPLATE_NAME = 'demo';

/** Presets that want prebuilds, so that a fresh `npm start` shows the pools filling on their own. */
const DEMO_VERSION: VersionInput = {
  name: 'v1',
  parameters: [
    { name: 'region', type: 'string', required: true },
    { name: 'cpu', type: 'number', default: '2' },
  ],
  presets: [
    { name: 'small', parameters: { region: 'eu', cpu: '2' }, prebuilds: { instances: 2 } },
    {
      name: 'large',
      parameters: { region: 'eu', cpu: '8' },
      prebuilds: { instances: 1, ttlSeconds: 86_400 },
    },
    {
      name: 'us',
      parameters: { region: 'us' },
      prebuilds: {
        instances: 1,
        timezone: 'America/New_York',
        // More warm workspaces while the US office works.
        schedules: [{ cron: '* 9-17 * * 1-5', instances: 2 }],
      },
    },
    {
      name: 'burst',
      parameters: { region: 'ap' },
      prebuilds: {
        instances: 2,
        // Demand-sized (DESIGN.md rule 12): two spare above the last 10 minutes' requests, at most ten; claim a few
        // and the pool grows, stop and it shrinks back to two.
        instancesExpression: 'min(base + claims_10m + misses_10m, 10)',
      },
    },
  ],
};

/** Creates the demo template once; the host calls seed() on bootstrap when SEED_DEMO is true. */
@Injectable()
export class DemoSeedService {
  private readonly logger = new Logger(DemoSeedService.name);

  constructor(private readonly templates: TemplatesService) {}

  async seed(): Promise<void> {
    if ((await this.templates.findTemplateIdByName(DEMO_TEMPLATE_NAME)) !== null) return;
    try {
      const template = await this.templates.createTemplate({
        name: DEMO_TEMPLATE_NAME,
        version: DEMO_VERSION,
      });
      this.logger.log({
        msg: 'demo template seeded',
        event: 'demo_seeded',
        templateId: template.id,
        presets: template.activeVersion.presets.map((preset) => preset.name),
      });
    } catch (error) {
      // Replicas starting together all see no demo template; the unique name lets exactly one of them create it.
      if (error instanceof PrebuildsException && error.code === PrebuildsErrorCode.NameTaken) return;
      throw error;
    }
  }
}
