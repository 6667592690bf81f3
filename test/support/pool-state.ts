import type { DataSource } from 'typeorm';
import { PrebuildsSnapshotRepository } from '../../src/prebuilds/database/snapshot.repository.js';
import type { ReconciliationState } from '../../src/prebuilds/state/types.js';
import { PrebuildsNamespace } from '../../src/prebuilds/database/prebuilds-namespace.js';

export interface PoolState extends ReconciliationState {
  presetId: string;
  presetName: string;
  templateName: string;
  active: boolean;
}

/** Every preset's state as the reconciler would compute it right now, read straight from the database. */
export async function readPoolStates(ds: DataSource, now = new Date()): Promise<PoolState[]> {
  // One MVCC snapshot, as the reconciler reads it: rows of presets with a TTL come in a second statement, and a
  // job finishing between the two would otherwise count once as starting and once as running.
  const snapshot = await ds.transaction('REPEATABLE READ', (manager) =>
    new PrebuildsSnapshotRepository(ds, new PrebuildsNamespace()).readSnapshot(manager, {
      now,
      templateId: null,
      backoffLookbackMs: 3_600_000,
      failureHardLimit: 0,
    }),
  );
  return snapshot.presetSnapshots().map((preset) => ({
    presetId: preset.presetId,
    presetName: preset.preset.presetName,
    templateName: preset.preset.templateName,
    active: preset.isActive(),
    ...preset.calculateState(now),
  }));
}
