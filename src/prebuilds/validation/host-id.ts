import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';

/** Longest host id the module stores (template, organization, owner and initiator ids are the host's, as text). */
export const HOST_ID_MAX_LENGTH = 200;

/** True for an id the module can store for the host: non-empty text without NUL, at most 200 characters. */
export function isHostId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= HOST_ID_MAX_LENGTH &&
    !value.includes('\u0000')
  );
}

/** Throws a 400 naming `field` when `value` cannot be a host id. */
export function assertHostId(value: unknown, field: string): asserts value is string {
  if (!isHostId(value)) {
    throw new PrebuildsException(
      PrebuildsErrorCode.ValidationFailed,
      `${field} must be a non-empty string of at most ${HOST_ID_MAX_LENGTH} characters without NUL`,
    );
  }
}
