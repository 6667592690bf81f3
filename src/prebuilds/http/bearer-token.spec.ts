import { describe, expect, it } from '@jest/globals';
import { parseBearerToken } from './bearer-token.js';

describe('parseBearerToken', () => {
  it.each([
    ['Bearer pbt_abc-DEF_123', 'pbt_abc-DEF_123'],
    ['bearer abc', 'abc'],
    ['BEARER  abc= ', 'abc='],
  ])('%p → %p', (header, token) => {
    expect(parseBearerToken(header)).toBe(token);
  });

  it.each([undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'Bearer ab\u00e9', 'Bearerabc'])(
    'rejects %p',
    (header) => {
      expect(parseBearerToken(header)).toBeNull();
    },
  );

  it('rejects repeated headers and absurdly long tokens', () => {
    expect(parseBearerToken(['Bearer a', 'Bearer b'])).toBeNull();
    expect(parseBearerToken(`Bearer ${'a'.repeat(513)}`)).toBeNull();
    expect(parseBearerToken(`Bearer ${'a'.repeat(512)}`)).toHaveLength(512);
  });
});
