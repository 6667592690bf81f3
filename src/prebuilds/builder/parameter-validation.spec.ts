import { describe, expect, it } from '@jest/globals';
import { BuildValidationError } from './build-errors.js';
import { type ParameterDefinition, resolveBuildParameters } from './parameter-validation.js';

const definitions: ParameterDefinition[] = [
  { name: 'region', type: 'string', required: true, defaultValue: null },
  { name: 'cpu', type: 'number', required: false, defaultValue: '2' },
  { name: 'gpu', type: 'bool', required: false, defaultValue: null },
];

describe('resolveBuildParameters', () => {
  it.each([
    [{ region: 'eu' }, { region: 'eu', cpu: '2' }],
    [
      { region: 'eu', cpu: '8', gpu: 'true' },
      { region: 'eu', cpu: '8', gpu: 'true' },
    ],
  ])('merges %j over the defaults', (given, expected) => {
    expect(resolveBuildParameters(definitions, given)).toEqual(expected);
  });

  it.each([
    [{}, "required parameter 'region' is missing"],
    [{ region: 'eu', cpu: 'many' }, "parameter 'cpu' must be a number, got 'many'"],
    [{ region: 'eu', cpu: '' }, "parameter 'cpu' must be a number"],
    [{ region: 'eu', gpu: 'yes' }, "parameter 'gpu' must be true or false"],
    [{ region: 'eu', disk: '10' }, "parameter 'disk' is not declared"],
  ])('refuses %j', (given, message) => {
    expect(() => resolveBuildParameters(definitions, given)).toThrow(BuildValidationError);
    expect(() => resolveBuildParameters(definitions, given)).toThrow(message);
  });
});
