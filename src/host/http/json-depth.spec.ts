import { describe, expect, it } from '@jest/globals';
import { jsonDepthExceeds, MAX_JSON_DEPTH, verifyJsonDepth } from './json-depth.js';

const raw = (text: string) => Buffer.from(text, 'utf8');
const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('jsonDepthExceeds', () => {
  it('counts objects and arrays, up to the limit included', () => {
    expect(jsonDepthExceeds(raw(nested(MAX_JSON_DEPTH)))).toBe(false);
    expect(jsonDepthExceeds(raw(nested(MAX_JSON_DEPTH + 1)))).toBe(true);
    expect(jsonDepthExceeds(raw('['.repeat(33) + ']'.repeat(33)))).toBe(true);
    expect(jsonDepthExceeds(raw('[{"a":[{"b":[]}]}]'), 5)).toBe(false);
    expect(jsonDepthExceeds(raw('[{"a":[{"b":[]}]}]'), 4)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(raw(JSON.stringify({ s: '['.repeat(100) })))).toBe(false);
    expect(jsonDepthExceeds(raw(JSON.stringify({ s: '\\"[[[[' + '"{{{{'.repeat(20) })))).toBe(false);
  });

  it('siblings do not add up; a deep body of 1 MB is scanned without recursion', () => {
    expect(jsonDepthExceeds(raw(`[${Array(1000).fill('[[]]').join(',')}]`))).toBe(false);
    expect(jsonDepthExceeds(raw('['.repeat(1_000_000)))).toBe(true);
  });

  it('verifyJsonDepth throws a 400 of its own type', () => {
    expect(() => verifyJsonDepth(null, null, raw(nested(40)))).toThrow(
      expect.objectContaining({ status: 400, type: 'entity.too.deep' }),
    );
    expect(() => verifyJsonDepth(null, null, raw(nested(3)))).not.toThrow();
  });
});
