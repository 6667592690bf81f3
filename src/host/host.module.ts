import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { BearerAuthMiddleware } from './auth/bearer-auth.middleware.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { HostAuthModule } from './host-auth.module.js';
import { RequestLogMiddleware } from './http/request-log.middleware.js';
import { SimulatedProvisionerService } from './provisioner/simulated-provisioner.service.js';
import { DemoSeedRunner } from './seed/demo-seed.runner.js';
import { DemoSeedService } from './seed/demo-seed.service.js';
import { TemplatesModule } from './templates/templates.module.js';
import { UsersModule } from './users/users.module.js';
import { WorkspacesModule } from './workspaces/workspaces.module.js';

/**
 * This repository's control plane around the prebuilds module: bearer-token authentication (the module only
 * authorises), users, templates, workspaces, a simulated provisioner and the demo seed.
 */
@Module({
  imports: [HostAuthModule, UsersModule, TemplatesModule, WorkspacesModule, DashboardModule],
  providers: [SimulatedProvisionerService, DemoSeedService, DemoSeedRunner],
})
export class HostModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Every path, unknown ones too. Bearer auth only attaches a subject when the token is valid; each route's
    // guard decides what it needs.
    consumer.apply(RequestLogMiddleware, BearerAuthMiddleware).forRoutes('{*path}');
  }
}
