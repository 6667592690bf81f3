import { IS_PREBUILD_TAG } from '../database/job-tags.js';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';

/** Tags of a job or a provisioner key: plain string pairs (Coder's provisioner tags). */
export type ProvisionerTags = Record<string, string>;

/**
 * The tag that tells a prebuild's own jobs from users' jobs. On a job it is set by the module (`"true"` on a
 * prebuild's builds); on a key, `"true"` takes prebuild jobs only, `"false"` user jobs only, absent both.
 */
export { IS_PREBUILD_TAG };

export const MAX_TAGS = 32;
const TAG_KEY = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$/;
const TAG_VALUE_MAX_LENGTH = 256;

function invalid(message: string): never {
  throw new PrebuildsException(PrebuildsErrorCode.ValidationFailed, message);
}

/**
 * Checks tags given by a host or an operator, as a 400 naming the field: an object of at most MAX_TAGS string
 * values, keys of letters, digits and `_.:/-`. `isPrebuild` says what `is_prebuild` may be: `reserved` (a
 * template's tags: the module sets it) or `boolean` (a key's: "true" or "false").
 */
export function assertProvisionerTags(
  value: unknown,
  field: string,
  isPrebuild: 'reserved' | 'boolean',
): asserts value is ProvisionerTags {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(`${field} must be an object of string values`);
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_TAGS) invalid(`${field} must have at most ${MAX_TAGS} tags`);
  for (const [key, tag] of entries) {
    if (!TAG_KEY.test(key)) {
      invalid(
        `${field}: tag name '${key.slice(0, 80)}' must be 1-64 of A-Z a-z 0-9 _ . : / - (a letter or digit first)`,
      );
    }
    if (typeof tag !== 'string' || tag.length > TAG_VALUE_MAX_LENGTH) {
      invalid(`${field}.${key} must be a string of at most ${TAG_VALUE_MAX_LENGTH} characters`);
    }
    if (key === IS_PREBUILD_TAG && isPrebuild === 'reserved') {
      invalid(`${field}.${IS_PREBUILD_TAG} is set by the module on prebuild jobs and cannot be given`);
    }
    if (key === IS_PREBUILD_TAG && tag !== 'true' && tag !== 'false') {
      invalid(`${field}.${IS_PREBUILD_TAG} must be "true" (prebuild jobs only) or "false" (user jobs only)`);
    }
  }
}
