import { BuildValidationError } from './build-errors.js';

export interface ParameterDefinition {
  name: string;
  type: 'string' | 'number' | 'bool';
  required: boolean;
  defaultValue: string | null;
}

/**
 * Merges the given values over the version's defaults and checks them against its definitions. Returns the values
 * a build records; throws BuildValidationError naming the first parameter at fault.
 */
export function resolveBuildParameters(
  definitions: ParameterDefinition[],
  given: Record<string, string>,
): Record<string, string> {
  const known = new Map(definitions.map((definition) => [definition.name, definition]));
  for (const name of Object.keys(given)) {
    if (!known.has(name))
      throw new BuildValidationError(`parameter '${name}' is not declared by the template version`);
  }
  const resolved: Record<string, string> = {};
  for (const definition of definitions) {
    const value = given[definition.name] ?? definition.defaultValue ?? undefined;
    if (value === undefined) {
      if (definition.required)
        throw new BuildValidationError(`required parameter '${definition.name}' is missing`);
      continue;
    }
    checkType(definition, value);
    resolved[definition.name] = value;
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
