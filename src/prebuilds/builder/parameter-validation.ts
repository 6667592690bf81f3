import type { ParameterDefinition } from '../database/workspace-build.repository.js';
import { BuildValidationError } from './build-errors.js';

/** Keys a parameters object may not have (they would set or shadow a prototype). */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Merges the given values over the version's defaults and checks them against its definitions. Returns the values
 * a build records; throws BuildValidationError naming the first parameter at fault. Only the map's own properties
 * count: a required parameter named `toString` is missing unless given, never the inherited function.
 */
export function resolveBuildParameters(
  definitions: ParameterDefinition[],
  given: Record<string, string>,
): Record<string, string> {
  const known = new Map(definitions.map((definition) => [definition.name, definition]));
  for (const name of Object.keys(given)) {
    if (RESERVED_NAMES.has(name))
      throw new BuildValidationError(`parameter '${name}' is a reserved name and is not allowed`);
    if (!known.has(name))
      throw new BuildValidationError(`parameter '${name}' is not declared by the template version`);
  }
  const resolved: Record<string, string> = {};
  for (const definition of definitions) {
    const own = Object.hasOwn(given, definition.name) ? (given[definition.name] as unknown) : undefined;
    const value = own ?? definition.defaultValue ?? undefined;
    if (value === undefined) {
      if (definition.required)
        throw new BuildValidationError(`required parameter '${definition.name}' is missing`);
      continue;
    }
    if (typeof value !== 'string')
      throw new BuildValidationError(`parameter '${definition.name}' must be a string value`);
    if (value.includes('\u0000'))
      throw new BuildValidationError(`parameter '${definition.name}' must not contain a NUL character`);
    checkType(definition, value);
    Object.defineProperty(resolved, definition.name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return resolved;
}

function checkType(definition: ParameterDefinition, value: string): void {
  if (definition.type === 'number' && (value.trim() === '' || !Number.isFinite(Number(value)))) {
    throw new BuildValidationError(`parameter '${definition.name}' must be a number, got '${value}'`);
  }
  if (definition.type === 'bool' && value !== 'true' && value !== 'false') {
    throw new BuildValidationError(`parameter '${definition.name}' must be true or false, got '${value}'`);
  }
}
