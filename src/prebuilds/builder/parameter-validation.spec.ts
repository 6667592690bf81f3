import { describe, expect, it } from '@jest/globals';
import { BuildValidationError } from './build-errors.js';
import type { ParameterDefinition } from '../database/workspace-build.repository.js';
import { resolveBuildParameters } from './parameter-validation.js';

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

  describe('reads the given map by own property only', () => {
    const protoNames: ParameterDefinition[] = [
      { name: 'toString', type: 'string', required: true, defaultValue: null },
      { name: 'valueOf', type: 'number', required: false, defaultValue: null },
    ];

    it('reports a required `toString` missing instead of storing the inherited function', () => {
      expect(() => resolveBuildParameters(protoNames, {})).toThrow(
        "required parameter 'toString' is missing",
      );
    });

    it('skips an unset optional number `valueOf` (no TypeError) and checks a given one', () => {
      expect(resolveBuildParameters(protoNames, { toString: 'x' })).toEqual({ toString: 'x' });
      expect(() => resolveBuildParameters(protoNames, { toString: 'x', valueOf: 'abc' })).toThrow(
        "parameter 'valueOf' must be a number",
      );
      expect(resolveBuildParameters(protoNames, { toString: 'x', valueOf: '3' })).toEqual({
        toString: 'x',
        valueOf: '3',
      });
    });

    it.each(['{"__proto__":"x"}', '{"constructor":"x"}', '{"prototype":"x"}'])(
      'refuses the reserved key of %s, naming it',
      (json) => {
        const given = JSON.parse(json) as Record<string, string>;
        const key = Object.keys(given)[0];
        expect(() => resolveBuildParameters(definitions, given)).toThrow(BuildValidationError);
        expect(() => resolveBuildParameters(definitions, given)).toThrow(
          `parameter '${key}' is a reserved name`,
        );
      },
    );

    it('refuses a non-string value and a NUL', () => {
      expect(() => resolveBuildParameters(definitions, { region: 5 as unknown as string })).toThrow(
        "parameter 'region' must be a string",
      );
      expect(() => resolveBuildParameters(definitions, { region: 'e\u0000u' })).toThrow('NUL');
    });
  });
});
