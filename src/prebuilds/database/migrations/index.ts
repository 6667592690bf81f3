import { initialSchema } from './1764288000000-InitialSchema.js';
import { jobLeases } from './1764950000000-JobLeases.js';
import { agentsReady } from './1765100000000-AgentsReady.js';
import { provisionerKeys } from './1765300000000-ProvisionerKeys.js';
import { presetHistory } from './1765400000000-PresetHistory.js';
import { demandExpression } from './1765500000000-DemandExpression.js';
import { latestBuildState } from './1765600000000-LatestBuildState.js';
import { catalogVersion } from './1765700000000-CatalogVersion.js';
import type { PrebuildsMigration } from './prebuilds-migration.js';

/** Every migration, in order. Listed explicitly (not globbed) so that ESM builds, jest and the package agree. */
export const PREBUILDS_MIGRATIONS: readonly PrebuildsMigration[] = [
  initialSchema,
  jobLeases,
  agentsReady,
  provisionerKeys,
  presetHistory,
  demandExpression,
  latestBuildState,
  catalogVersion,
];
