import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { HostConfig } from '../config/host-config.js';
import { HOST_CONFIG } from '../config/host-config.token.js';
import { DemoSeedService } from './demo-seed.service.js';

/** Seeds the demo template at start unless SEED_DEMO=false; a failure is logged and never stops the app. */
@Injectable()
export class DemoSeedRunner implements OnApplicationBootstrap {
  private readonly logger = new Logger('DemoSeed');

  constructor(
    private readonly seeder: DemoSeedService,
    @Inject(HOST_CONFIG) private readonly config: HostConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.seedDemo) return;
    await this.seeder
      .seed()
      .catch((error: Error) =>
        this.logger.error({ msg: 'demo seed failed', event: 'demo_seed_failed', error: error.message }),
      );
  }
}
