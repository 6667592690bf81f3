import {
  Body,
  Controller,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Post,
} from '@nestjs/common';
import {
  ClaimService,
  CurrentSubject,
  type PrebuildsSubject,
  ProvisionerJobService,
  RequirePermission,
  TemplateCatalogService,
} from 'nest-prebuilds';

export const ACME_TEMPLATE_ID = 'tpl-go';

/** Acme's way of asking for a dev environment: claim a prebuild of the preset for the signed-in user. */
@Controller('dev-envs')
export class DevEnvsController {
  constructor(private readonly claims: ClaimService) {}

  @Post()
  @RequirePermission('dev-envs:create')
  create(@Body() body: { presetId: string; name: string }, @CurrentSubject() subject: PrebuildsSubject) {
    return this.claims.createWorkspace({
      templateId: ACME_TEMPLATE_ID,
      presetId: body.presetId,
      name: body.name,
      ownerId: subject.id,
    });
  }
}

/** Acme's catalog seed: its template, under Acme's own id, with a pool of 2. */
@Injectable()
export class AcmeCatalogSeed implements OnApplicationBootstrap {
  constructor(private readonly catalog: TemplateCatalogService) {}

  async onApplicationBootstrap(): Promise<void> {
    if ((await this.catalog.findTemplateIdByName('acme', 'go')) !== null) return;
    await this.catalog.registerTemplate({
      id: ACME_TEMPLATE_ID,
      organizationId: 'acme',
      name: 'go',
      version: { name: 'v1', presets: [{ name: 'small', prebuilds: { instances: 2 } }] },
    });
  }
}

/** Acme's provisioner, attached through the module's job service: acquire, build (instantly), complete, agents ready. */
@Injectable()
export class AcmeProvisioner implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly jobs: ProvisionerJobService) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const job = await this.jobs.acquireNext('acme-builder').catch(() => null);
      if (!job) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      await this.jobs.complete(job.jobId, 'acme-builder');
      if (job.transition === 'start') {
        for (const agentId of await this.jobs.agentsOfJob(job.jobId)) {
          await this.jobs.reportAgentLifecycle(agentId, 'ready');
        }
      }
    }
  }
}
