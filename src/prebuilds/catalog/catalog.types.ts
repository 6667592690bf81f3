import type { ParameterType, PresetSummary } from '../database/catalog-rows.js';
import type { PrebuildStatus } from '../state/types.js';

export type { ParameterType, PresetSummary } from '../database/catalog-rows.js';
export const PARAMETER_TYPES: readonly ParameterType[] = ['string', 'number', 'bool'];

/** DESIGN.md's `version` JSON: a template version, its parameter definitions and its presets. */
export interface VersionInput {
  name: string;
  parameters?: ParameterInput[];
  presets?: PresetInput[];
}

export interface ParameterInput {
  name: string;
  type?: ParameterType;
  required?: boolean;
  default?: string;
}

export interface PresetInput {
  name: string;
  parameters?: Record<string, string>;
  prebuilds?: PrebuildsInput;
}

export interface PrebuildsInput {
  instances: number;
  ttlSeconds?: number;
  timezone?: string;
  schedules?: ScheduleInput[];
  /**
   * DESIGN.md rule 12: a CEL expression that sets the target instead of `instances` (which it can read as `base`),
   * e.g. `claims_10m + 2`; checked before it is stored.
   */
  instancesExpression?: string;
}

export interface ScheduleInput {
  cron: string;
  instances: number;
}

/** A template registered under the host's own id, with its first version (made active). */
export interface RegisterTemplateInput {
  /** The host's id for the template (opaque text); a UUID is generated when absent. */
  id?: string;
  /** The host's organization id (opaque text). */
  organizationId: string;
  name: string;
  version: VersionInput;
  /**
   * Tags every job of the template carries (default none): only provisioner keys holding all of them take its jobs.
   * `is_prebuild` is the module's own and cannot be given.
   */
  provisionerTags?: Record<string, string>;
}

export interface PublishVersionInput {
  version: VersionInput;
  /** Make the new version the active one in the same transaction (default false). */
  activate?: boolean;
}

export interface CreatedTemplate {
  id: string;
  name: string;
  organizationId: string;
  activeVersion: { id: string; name: string; presets: PresetSummary[] };
}

export interface CreatedVersion {
  id: string;
  name: string;
  active: boolean;
  presets: PresetSummary[];
}

export interface TemplateParameterView {
  name: string;
  type: ParameterType;
  required: boolean;
  default: string | null;
}

export interface PresetView {
  id: string;
  name: string;
  parameters: Record<string, string>;
  /** null when the preset wants no prebuilds. */
  prebuilds: {
    instances: number;
    ttlSeconds: number | null;
    timezone: string | null;
    schedules: ScheduleInput[];
    instancesExpression: string | null;
  } | null;
  prebuildStatus: PrebuildStatus;
  lastInvalidatedAt: string | null;
}

export interface TemplateView {
  id: string;
  name: string;
  organizationId: string;
  /** '' when not deprecated, else the message users see. */
  deprecated: string;
  createdAt: string;
  updatedAt: string;
  activeVersion: {
    id: string;
    name: string;
    createdAt: string;
    parameters: TemplateParameterView[];
    presets: PresetView[];
  } | null;
}
