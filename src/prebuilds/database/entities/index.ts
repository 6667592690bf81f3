import { ApiTokenEntity } from './api-token.entity.js';
import { OrganizationEntity } from './organization.entity.js';
import { PrebuildEventEntity } from './prebuild-event.entity.js';
import { PrebuildScheduleEntity } from './prebuild-schedule.entity.js';
import { PrebuildsSettingsEntity } from './prebuilds-settings.entity.js';
import { PresetParameterEntity } from './preset-parameter.entity.js';
import { PresetEntity } from './preset.entity.js';
import { ProvisionerJobEntity } from './provisioner-job.entity.js';
import { TemplateVersionParameterEntity } from './template-version-parameter.entity.js';
import { TemplateVersionEntity } from './template-version.entity.js';
import { TemplateEntity } from './template.entity.js';
import { UserEntity } from './user.entity.js';
import { WorkspaceAgentEntity } from './workspace-agent.entity.js';
import { WorkspaceBuildParameterEntity } from './workspace-build-parameter.entity.js';
import { WorkspaceBuildEntity } from './workspace-build.entity.js';
import { WorkspaceEntity } from './workspace.entity.js';

export * from './api-token.entity.js';
export * from './organization.entity.js';
export * from './prebuild-event.entity.js';
export * from './prebuild-schedule.entity.js';
export * from './prebuilds-settings.entity.js';
export * from './preset-parameter.entity.js';
export * from './preset.entity.js';
export * from './provisioner-job.entity.js';
export * from './template-version-parameter.entity.js';
export * from './template-version.entity.js';
export * from './template.entity.js';
export * from './user.entity.js';
export * from './workspace-agent.entity.js';
export * from './workspace-build-parameter.entity.js';
export * from './workspace-build.entity.js';
export * from './workspace.entity.js';

export const PREBUILDS_ENTITIES = [
  OrganizationEntity,
  UserEntity,
  ApiTokenEntity,
  TemplateEntity,
  TemplateVersionEntity,
  TemplateVersionParameterEntity,
  PresetEntity,
  PresetParameterEntity,
  PrebuildScheduleEntity,
  ProvisionerJobEntity,
  WorkspaceEntity,
  WorkspaceBuildEntity,
  WorkspaceBuildParameterEntity,
  WorkspaceAgentEntity,
  PrebuildEventEntity,
  PrebuildsSettingsEntity,
];
