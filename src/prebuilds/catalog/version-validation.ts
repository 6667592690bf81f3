import { BuildValidationError } from '../builder/build-errors.js';
import { resolveBuildParameters } from '../builder/parameter-validation.js';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import {
  checkTargetExpression,
  isValidTimezone,
  schedulesOverlap,
  validateScheduleCron,
} from '../state/index.js';
import type { PlannedParameter, PlannedPreset, VersionPlan } from '../database/catalog-rows.js';
import type { PresetInput, VersionInput } from './catalog.types.js';
import { MAX_INSTANCES } from './version.dto.js';

/**
 * Cross-field checks of a `version` body, the ones a DTO cannot express: the schedule form, time zones, overlap,
 * duplicate names, and preset values against the version's own parameter definitions. Shape, types and ranges are
 * the DTOs' job. Everything here runs before the first write, so a refused version leaves nothing behind.
 *
 * The engine tolerates bad stored schedules (it ignores them); the API refuses them so that an admin finds out at
 * once instead of wondering why a schedule never applies.
 */

export type {
  PlannedParameter,
  PlannedPreset,
  PlannedSchedule,
  VersionPlan,
} from '../database/catalog-rows.js';

function reject(field: string, reason: string): never {
  throw new PrebuildsException(PrebuildsErrorCode.ValidationFailed, `${field}: ${reason}`);
}

export interface VersionLimits {
  /** The largest `instances` of a preset or schedule: the module's maxInstancesPerPreset (DESIGN.md rule 11). */
  maxInstances: number;
}

/**
 * Names a parameter can never have: a parameters object with such a key would set or shadow a prototype (and
 * class-transformer drops `__proto__` silently), so the API refuses them instead.
 */
export const RESERVED_PARAMETER_NAMES: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/**
 * Checks a version body and returns it in the shape the repository writes; throws a 400 naming the field. With the
 * DTO's 1,000 presets at most, one version can ask for at most 1,000 × maxInstances prebuilds (and the cluster caps
 * still bound what gets created).
 */
export function planVersion(
  input: VersionInput,
  path = 'version',
  limits: VersionLimits = { maxInstances: MAX_INSTANCES },
): VersionPlan {
  const parameters = planParameters(input, path);
  const definitions = new Map(parameters.map((parameter) => [parameter.name, parameter]));
  const seen = new Set<string>();
  const presets = (input.presets ?? []).map((preset, index) => {
    const field = `${path}.presets[${index}]`;
    if (seen.has(preset.name)) reject(`${field}.name`, `duplicate preset name '${preset.name}'`);
    seen.add(preset.name);
    return planPreset(preset, field, definitions, limits);
  });
  return { name: input.name, parameters, presets };
}

function planParameters(input: VersionInput, path: string): PlannedParameter[] {
  const seen = new Set<string>();
  return (input.parameters ?? []).map((parameter, ordinal) => {
    const field = `${path}.parameters[${ordinal}]`;
    if (seen.has(parameter.name)) reject(`${field}.name`, `duplicate parameter name '${parameter.name}'`);
    if (RESERVED_PARAMETER_NAMES.has(parameter.name))
      reject(`${field}.name`, `'${parameter.name}' is a reserved name and cannot name a parameter`);
    seen.add(parameter.name);
    const planned: PlannedParameter = {
      name: parameter.name,
      type: parameter.type ?? 'string',
      required: parameter.required ?? false,
      defaultValue: parameter.default ?? null,
      ordinal,
    };
    if (planned.defaultValue !== null) checkValue(planned, planned.defaultValue, `${field}.default`);
    return planned;
  });
}

/** The builder's own rules decide what a number or a bool is, so the API and the builds never disagree. */
function checkValue(definition: PlannedParameter, value: string, field: string): void {
  try {
    resolveBuildParameters([{ ...definition, required: false, defaultValue: null }], {
      [definition.name]: value,
    });
  } catch (error) {
    if (error instanceof BuildValidationError) reject(field, error.message);
    throw error;
  }
}

function planPreset(
  preset: PresetInput,
  field: string,
  definitions: Map<string, PlannedParameter>,
  limits: VersionLimits,
): PlannedPreset {
  const parameters = preset.parameters ?? {};
  for (const [name, value] of Object.entries(parameters)) {
    if (RESERVED_PARAMETER_NAMES.has(name))
      reject(`${field}.parameters.${name}`, `'${name}' is a reserved name and cannot name a parameter`);
    const definition = definitions.get(name);
    if (!definition) reject(`${field}.parameters.${name}`, `'${name}' is not a parameter of this version`);
    checkValue(definition, value, `${field}.parameters.${name}`);
  }
  // A missing required parameter is deliberately not refused here: a preset without prebuilds may leave it to
  // the user, and one with prebuilds is marked validation_failed by the reconciler (DESIGN.md rule 8).
  const prebuilds = preset.prebuilds;
  if (!prebuilds) {
    return {
      name: preset.name,
      parameters,
      desiredInstances: null,
      ttlSeconds: null,
      timezone: '',
      schedules: [],
      expression: null,
    };
  }
  const overCap = (instances: number) => instances > limits.maxInstances;
  if (overCap(prebuilds.instances)) {
    reject(
      `${field}.prebuilds.instances`,
      `${prebuilds.instances} is above the per-preset cap of ${limits.maxInstances} (maxInstancesPerPreset)`,
    );
  }
  const schedules = (prebuilds.schedules ?? []).map((schedule) => ({
    cron: schedule.cron,
    instances: schedule.instances,
  }));
  schedules.forEach((schedule, index) => {
    if (overCap(schedule.instances)) {
      reject(
        `${field}.prebuilds.schedules[${index}].instances`,
        `${schedule.instances} is above the per-preset cap of ${limits.maxInstances} (maxInstancesPerPreset)`,
      );
    }
  });
  const scheduleField = (index: number) => `${field}.prebuilds.schedules[${index}].cron`;
  schedules.forEach((schedule, index) => {
    const problem = validateScheduleCron(schedule.cron);
    if (problem !== null) reject(scheduleField(index), problem);
  });
  const timezone = prebuilds.timezone;
  if (timezone !== undefined && !isValidTimezone(timezone)) {
    reject(`${field}.prebuilds.timezone`, `unknown time zone '${timezone}'`);
  }
  if (schedules.length > 0 && timezone === undefined) {
    reject(`${field}.prebuilds.timezone`, 'required when schedules are given');
  }
  // Pairwise so that the message can name both schedules; a preset has a handful at most.
  for (let later = 1; later < schedules.length; later++) {
    for (let earlier = 0; earlier < later; earlier++) {
      if (schedulesOverlap([schedules[earlier].cron, schedules[later].cron])) {
        reject(
          scheduleField(later),
          `overlaps schedules[${earlier}] (some hour of the week is matched by both)`,
        );
      }
    }
  }
  return {
    name: preset.name,
    parameters,
    desiredInstances: prebuilds.instances,
    ttlSeconds: prebuilds.ttlSeconds ?? null,
    timezone: timezone ?? '',
    schedules,
    expression: plannedExpression(prebuilds.instancesExpression, `${field}.prebuilds.instancesExpression`),
  };
}

/** The expression as stored (blank = none), or a 400 naming the field and where in the text the problem is. */
export function plannedExpression(source: string | null | undefined, field: string): string | null {
  if (source === undefined || source === null || source.trim() === '') return null;
  const problem = checkTargetExpression(source);
  if (problem) reject(field, `${problem.message} at line ${problem.line}, column ${problem.column}`);
  return source;
}
