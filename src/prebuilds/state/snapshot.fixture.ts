// Builders for the state engine's specs: a valid row with only the fields a case cares about overridden.
import { GlobalSnapshot } from './global-snapshot.js';
import type { PresetSnapshot } from './preset-snapshot.js';
import type { PresetRow, RunningPrebuildRow, SnapshotInput } from './types.js';

/** A Monday, 12:00 UTC. */
export const NOW = new Date('2024-06-03T12:00:00.000Z');
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export function shift(at: Date, ms: number): Date {
  return new Date(at.getTime() + ms);
}

export function presetRow(overrides: Partial<PresetRow> = {}): PresetRow {
  return {
    presetId: 'p1',
    presetName: 'default',
    templateId: 't1',
    templateName: 'tmpl',
    templateVersionId: 'v1',
    organizationId: 'o1',
    usingActiveVersion: true,
    templateDeleted: false,
    templateDeprecated: false,
    desiredInstances: 0,
    ttlSeconds: null,
    lastInvalidatedAt: null,
    schedulingTimezone: '',
    prebuildStatus: 'healthy',
    ...overrides,
  };
}

export function runningRow(
  workspaceId: string,
  overrides: Partial<RunningPrebuildRow> = {},
): RunningPrebuildRow {
  return {
    workspaceId,
    presetId: 'p1',
    templateId: 't1',
    templateVersionId: 'v1',
    ready: true,
    createdAt: shift(NOW, -HOUR),
    ...overrides,
  };
}

export function snapshotInput(partial: Partial<SnapshotInput> = {}): SnapshotInput {
  return {
    presets: [presetRow()],
    schedules: [],
    running: [],
    inProgress: [],
    pendingNonActive: [],
    backoffs: [],
    hardLimitedPresetIds: [],
    ...partial,
  };
}

/** The slice of preset `presetId` (default 'p1') of a snapshot built from `partial`. */
export function sliceOf(partial: Partial<SnapshotInput> = {}, presetId = 'p1'): PresetSnapshot {
  return new GlobalSnapshot(snapshotInput(partial)).filterByPreset(presetId);
}
