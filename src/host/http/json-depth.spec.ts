import { describe, expect, it } from '@jest/globals';
import { jsonDepthExceeds, MAX_JSON_DEPTH, parseJsonBody } from './json-depth.js';

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

  it('parseJsonBody throws a 400 of its own type for a deep body, before parsing', () => {
    expect(() => parseJsonBody(raw(nested(40)), 'application/json')).toThrow(
      expect.objectContaining({ status: 400, type: 'entity.too.deep' }),
    );
    expect(parseJsonBody(raw(nested(3)), 'application/json')).toEqual({ a: { a: { a: 1 } } });
  });
});

describe('parseJsonBody', () => {
  it('takes an object or an array at the top, and an empty body as {}', () => {
    expect(parseJsonBody(raw(' [1, 2]'), 'application/json; charset=utf-8')).toEqual([1, 2]);
    expect(parseJsonBody(raw(''), 'application/json')).toEqual({});
    for (const text of ['"a string"', '42', 'null', '{"a":', 'not json'])
      expect(() => parseJsonBody(raw(text), 'application/json')).toThrow(
        expect.objectContaining({
          status: 400,
          type: 'entity.parse.failed',
          message: 'body: malformed JSON',
        }),
      );
  });

  it('refuses a charset other than UTF-8 with a 415', () => {
    expect(() => parseJsonBody(raw('{}'), 'application/json; charset=latin1')).toThrow(
      expect.objectContaining({ status: 415, type: 'charset.unsupported' }),
    );
  });
});
