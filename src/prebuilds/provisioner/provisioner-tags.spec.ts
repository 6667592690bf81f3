import { describe, expect, it } from '@jest/globals';
import { assertProvisionerTags } from './provisioner-tags.js';

describe('assertProvisionerTags', () => {
  it.each([
    [{}, 'reserved'],
    [{ region: 'eu', 'k8s.io/zone': 'a', 'x:y': '' }, 'reserved'],
    [{ is_prebuild: 'true', region: 'eu' }, 'boolean'],
    [{ is_prebuild: 'false' }, 'boolean'],
  ] as const)('accepts %j (%s)', (tags, mode) => {
    expect(() => assertProvisionerTags(tags, 'tags', mode)).not.toThrow();
  });

  it.each([
    [null, 'boolean', /^tags must be an object/],
    [['eu'], 'boolean', /^tags must be an object/],
    ['eu', 'boolean', /^tags must be an object/],
    [{ region: 1 }, 'boolean', /^tags\.region must be a string/],
    [{ region: 'x'.repeat(257) }, 'boolean', /^tags\.region must be a string of at most 256/],
    [{ '': 'x' }, 'boolean', /tag name ''/],
    [{ 'a b': 'x' }, 'boolean', /tag name 'a b'/],
    [{ _x: 'x' }, 'boolean', /tag name '_x'/],
    [Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`t${i}`, 'v'])), 'boolean', /at most 32 tags/],
    [{ is_prebuild: 'yes' }, 'boolean', /tags\.is_prebuild must be "true"/],
    [{ is_prebuild: 'true' }, 'reserved', /tags\.is_prebuild is set by the module/],
  ] as const)('refuses %j (%s) naming the field', (tags, mode, message) => {
    expect(() => assertProvisionerTags(tags, 'tags', mode)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringMatching(message) }),
    );
  });
});
