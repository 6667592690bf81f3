import { Module } from '@nestjs/common';
import { HostAuthModule } from './host-auth.module.js';
import { SimulatedProvisionerService } from './provisioner/simulated-provisioner.service.js';
import { DemoSeedRunner } from './seed/demo-seed.runner.js';
import { DemoSeedService } from './seed/demo-seed.service.js';
import { TemplatesModule } from './templates/templates.module.js';

/** This repository's control plane around the prebuilds module: auth, templates, a provisioner, the demo seed. */
@Module({
  imports: [HostAuthModule, TemplatesModule],
  providers: [SimulatedProvisionerService, DemoSeedService, DemoSeedRunner],
})
export class HostModule {}
