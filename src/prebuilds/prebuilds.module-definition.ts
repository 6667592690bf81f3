import { ConfigurableModuleBuilder } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { PREBUILDS_DATA_SOURCE } from './database/prebuilds-data-source.js';
import { PrebuildsAdminController } from './http/prebuilds.controller.js';
import { TemplatePrebuildsController } from './http/template-prebuilds.controller.js';
import { MetricsController } from './http/metrics.controller.js';
import { ProvisionerKeysController } from './http/provisioner-keys.controller.js';
import { ProvisionerJobsController } from './http/provisioner-jobs.controller.js';
import { BuildLogsController } from './http/build-logs.controller.js';
import type { PrebuildsModuleOptions } from './prebuilds.options.js';

/** Options fixed when the module is declared (not by an async factory), because they choose injection tokens. */
export interface PrebuildsModuleExtras {
  /** Register the module's services globally (default true). */
  isGlobal?: boolean;
  /**
   * The name of the TypeORM DataSource the module queries (`TypeOrmModule.forRoot({ name })`); default: the host's
   * default DataSource. The module never adds entities or options to it.
   */
  dataSource?: string;
  /** Mount the module's controllers (admin, template invalidation, metrics); default true. */
  controllers?: boolean;
  /**
   * Also mount the external provisioner API (default false): provisioner keys (`/provisioner-keys`, permission
   * `provisioners:admin`), the job API daemons call with a key (`/provisioner/...`, header
   * `Prebuilds-Provisioner-Key`, not the host's authentication) and build logs. Ignored with `controllers: false`.
   */
  provisionerApi?: boolean;
  /**
   * A path the module's controllers are mounted under (Nest's RouterModule), below the host's global prefix:
   * `'ops'` puts the status route at `/<prefix>/ops/prebuilds/status`. Default: none.
   */
  path?: string;
}

/** The module's routes, mounted unless the host turns them off (`controllers: false`). */
export const PREBUILDS_CONTROLLERS = [
  PrebuildsAdminController,
  TemplatePrebuildsController,
  MetricsController,
];

/** The external provisioner API's routes, mounted when the host opts in (`provisionerApi: true`). */
export const PREBUILDS_PROVISIONER_CONTROLLERS = [
  ProvisionerKeysController,
  ProvisionerJobsController,
  BuildLogsController,
];

/** `PrebuildsModule.forRoot(options, extras)` / `forRootAsync({ useFactory, inject, ...extras })`. */
export const {
  ConfigurableModuleClass: PrebuildsConfigurableModule,
  MODULE_OPTIONS_TOKEN: PREBUILDS_MODULE_OPTIONS,
  OPTIONS_TYPE: PREBUILDS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: PREBUILDS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PrebuildsModuleOptions>({ moduleName: 'Prebuilds' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createPrebuildsOptions')
  // Global by default: a host's own modules inject the catalog, claim, query and job services.
  .setExtras<PrebuildsModuleExtras>(
    { isGlobal: true, controllers: true, provisionerApi: false },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal ?? true,
      controllers:
        extras.controllers === false
          ? []
          : [...PREBUILDS_CONTROLLERS, ...(extras.provisionerApi ? PREBUILDS_PROVISIONER_CONTROLLERS : [])],
      imports: [
        ...(definition.imports ?? []),
        ...(extras.path && extras.controllers !== false
          ? [RouterModule.register([{ path: extras.path, module: definition.module }])]
          : []),
      ],
      providers: [
        ...(definition.providers ?? []),
        { provide: PREBUILDS_DATA_SOURCE, useExisting: getDataSourceToken(extras.dataSource) },
      ],
      exports: [...(definition.exports ?? []), PREBUILDS_DATA_SOURCE],
    }),
  )
  .build();
