/**
 * The catalog's shapes as its repository reads and writes them: a validated version plan (catalog/version-validation.ts
 * makes it from the API's input) and what a write returns. Here, below the repository, so that the repository does
 * not import the catalog service's folder; the catalog re-exports them.
 */

export type ParameterType = 'string' | 'number' | 'bool';

export interface PresetSummary {
  id: string;
  name: string;
}

export interface PlannedParameter {
  name: string;
  type: ParameterType;
  required: boolean;
  defaultValue: string | null;
  ordinal: number;
}

export interface PlannedSchedule {
  cron: string;
  instances: number;
}

export interface PlannedPreset {
  name: string;
  parameters: Record<string, string>;
  /** null = the preset wants no prebuilds. */
  desiredInstances: number | null;
  ttlSeconds: number | null;
  /** '' = none, as the column stores it. */
  timezone: string;
  schedules: PlannedSchedule[];
  /** The target expression of DESIGN.md rule 12, or null. */
  expression: string | null;
}

export interface VersionPlan {
  name: string;
  parameters: PlannedParameter[];
  presets: PlannedPreset[];
}
