import { InitialSchema1764288000000 } from './1764288000000-InitialSchema.js';
import { RunningJobsIndex1764374400000 } from './1764374400000-RunningJobsIndex.js';
import { FailedJobsIndex1764460800000 } from './1764460800000-FailedJobsIndex.js';

/** Every migration, in order. Listed explicitly (not globbed) so that ESM builds, jest and the CLI agree. */
export const PREBUILDS_MIGRATIONS = [
  InitialSchema1764288000000,
  RunningJobsIndex1764374400000,
  FailedJobsIndex1764460800000,
];
