import { InitialSchema1764288000000 } from './1764288000000-InitialSchema.js';

/** Every migration, in order. Listed explicitly (not globbed) so that ESM builds, jest and the CLI agree. */
export const PREBUILDS_MIGRATIONS = [InitialSchema1764288000000];
