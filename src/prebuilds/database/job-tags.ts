/**
 * The tag the module puts on every prebuild's own jobs (and a provisioner key may hold to take only those, or none of
 * them). Here, below the repositories that match on it; the provisioner's tag validation re-exports it.
 */
export const IS_PREBUILD_TAG = 'is_prebuild';
