import { describe, expect, it } from '@jest/globals';
import { PrebuildsException } from '../errors/prebuilds.exception.js';
import { assertPlainInput, MAX_INPUT_DEPTH } from './validate-shape.js';

function refusal(value: unknown, path = ''): string {
  try {
    assertPlainInput(value, path);
  } catch (error) {
    expect(error).toBeInstanceOf(PrebuildsException);
    expect((error as PrebuildsException).code).toBe('VALIDATION_FAILED');
    return (error as Error).message;
  }
  throw new Error('not refused');
}

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
};

describe('assertPlainInput', () => {
  it('accepts ordinary input up to the depth limit', () => {
    expect(() =>
      assertPlainInput({ name: 'x', list: [1, 'two', { ok: true }], none: null }, ''),
    ).not.toThrow();
    expect(() => assertPlainInput(nested(MAX_INPUT_DEPTH), '')).not.toThrow();
  });

  it.each([
    [{ name: 'a\u0000b' }, 'name must not contain a NUL'],
    [
      { version: { presets: [{ name: 'ok' }, { name: '\u0000' }] } },
      'version.presets[1].name must not contain a NUL',
    ],
    [{ parameters: { 'k\u0000': 'v' } }, 'parameters has a key with a NUL'],
    ['\u0000', 'body must not contain a NUL'],
  ])('names the field of a NUL in %j', (value, message) => {
    expect(refusal(value)).toContain(message);
  });

  it('refuses nesting beyond the limit without recursing (100,000 levels)', () => {
    expect(refusal(nested(MAX_INPUT_DEPTH + 1))).toContain(`nested deeper than ${MAX_INPUT_DEPTH}`);
    expect(refusal(nested(100_000))).toContain('nested deeper');
  });

  it.each([
    '{"parameters":{"__proto__":"x"}}',
    '{"parameters":{"constructor":"x"}}',
    '{"a":[{"prototype":1}]}',
  ])('refuses the reserved key in %s, naming it', (json) => {
    const message = refusal(JSON.parse(json), 'version');
    expect(message).toMatch(/^version\.(parameters\.__proto__|parameters\.constructor|a\[0\]\.prototype): '/);
  });
});
