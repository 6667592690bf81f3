import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  type BuildInputs,
  type NewPrebuild,
  WorkspaceBuildRepository,
} from '../database/workspace-build.repository.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import { resolveBuildParameters } from './parameter-validation.js';
import { generatePrebuildName } from './prebuild-name.js';
import { WorkspaceBuilderService } from './workspace-builder.service.js';

export interface CreateRequest {
  presetId: string;
  count: number;
}

/** Per preset: how many were written, or why none (or not all) were. */
export type CreateOutcome = { created: number; error?: Error };

/**
 * Writes a cycle's creates for all presets at once. Inputs for every preset are read in one statement and each
 * preset's parameters are validated before anything is written (a BuildValidationError fails only that preset);
 * rows are then generated and written in batches of `createBatchSize` that span presets, each batch one statement (so
 * one commit) and one job post. Per preset, the fill costs a share of a batch instead of eight round trips and a commit
 * of its own.
 */
@Injectable()
export class PrebuildCreatorService {
  constructor(
    private readonly builds: WorkspaceBuildRepository,
    private readonly builder: WorkspaceBuilderService,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {}

  async createAcross(requests: CreateRequest[], now: Date): Promise<Map<string, CreateOutcome>> {
    const outcomes = new Map<string, CreateOutcome>();
    const wanted = requests.filter((request) => request.count > 0);
    if (wanted.length === 0) return outcomes;
    const inputs = new Map(
      (await this.builds.findPresetsBuildInputs(wanted.map((r) => r.presetId))).map((row) => [
        row.presetId,
        row,
      ]),
    );
    const ready: {
      presetId: string;
      count: number;
      input: BuildInputs;
      parameters: Record<string, string>;
    }[] = [];
    for (const { presetId, count } of wanted) {
      outcomes.set(presetId, { created: 0 });
      const input = inputs.get(presetId);
      try {
        if (!input) throw new Error(`preset ${presetId} does not exist`);
        if (input.activeVersionId !== input.templateVersionId) {
          throw new Error(`preset ${presetId} is not on its template's active version`);
        }
        const parameters = resolveBuildParameters(input.definitions, input.presetParameters);
        ready.push({ presetId, count, input, parameters });
      } catch (error) {
        outcomes.set(presetId, { created: 0, error: error as Error });
      }
    }
    // Rows are generated one batch at a time, while the batch before it is being written (on another pooled
    // connection), so that PostgreSQL's inserts and Node's row building overlap: a cycle's memory holds two batches,
    // however many it creates (DESIGN.md rule 11).
    let writing: Promise<void> | null = null;
    for (const batch of this.batches(ready, now)) {
      const write = this.writeBatch(batch, outcomes);
      if (writing) await writing;
      writing = write;
    }
    if (writing) await writing;
    return outcomes;
  }

  /** Writes one batch and records its outcome on each of its presets; never rejects. */
  private async writeBatch(batch: NewPrebuild[], outcomes: Map<string, CreateOutcome>): Promise<void> {
    try {
      await this.builds.insertPrebuilds(batch);
      for (const row of batch) (outcomes.get(row.presetId) as CreateOutcome).created += 1;
      this.builder.postJob(batch[0].jobId);
    } catch (error) {
      // The batch's statement failed as a whole: every preset in it reports the failure (and keeps what other
      // batches wrote).
      for (const row of batch) (outcomes.get(row.presetId) as CreateOutcome).error = error as Error;
    }
  }

  /** The rows of every preset's create, in presets' order, `createBatchSize` at a time (a batch spans presets). */
  private *batches(
    ready: { presetId: string; count: number; input: BuildInputs; parameters: Record<string, string> }[],
    now: Date,
  ): Generator<NewPrebuild[]> {
    const size = this.options.createBatchSize;
    let batch: NewPrebuild[] = [];
    for (const { presetId, count, input, parameters } of ready) {
      for (let i = 0; i < count; i++) {
        batch.push({
          workspaceId: randomUUID(),
          buildId: randomUUID(),
          jobId: randomUUID(),
          organizationId: input.organizationId,
          templateId: input.templateId,
          presetId,
          templateVersionId: input.templateVersionId,
          name: generatePrebuildName(),
          parameters,
          createdAt: now,
        });
        if (batch.length === size) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield batch;
  }
}
