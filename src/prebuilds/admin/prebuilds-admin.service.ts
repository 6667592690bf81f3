import { Inject, Injectable } from '@nestjs/common';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { Clock } from '../clock/clock.js';
import { CatalogRepository } from '../database/catalog.repository.js';
import { PresetRepository } from '../database/preset.repository.js';
import { PrebuildsSettingsRepository } from '../database/settings.repository.js';
import { ReconcileObserver } from '../reconciler/reconcile-observer.js';
import { PrebuildsErrorCode, PrebuildsException } from '../errors/prebuilds.exception.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import { PrebuildsPubsub } from '../pubsub/prebuilds-pubsub.js';
import { wakeTemplate } from '../pubsub/wake-template.js';
import type { CycleResult } from '../reconciler/cycle-result.js';
import { ReconcilerService } from '../reconciler/reconciler.service.js';

export interface ReconcileNowResponse {
  acquired: boolean;
  paused: boolean;
  elapsedMs: number;
  presets: CycleResult['presets'];
}

/** What operators do to the pools: run a cycle now, pause and resume, resume a preset, invalidate a template. */
@Injectable()
export class PrebuildsAdminService {
  private readonly logger = new PrebuildsLogger('PrebuildsAdmin');

  constructor(
    private readonly reconciler: ReconcilerService,
    private readonly settings: PrebuildsSettingsRepository,
    private readonly presets: PresetRepository,
    private readonly catalog: CatalogRepository,
    private readonly pubsub: PrebuildsPubsub,
    private readonly clock: Clock,
    private readonly observer: ReconcileObserver,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {}

  /**
   * A cycle now (all templates, or one). An unknown template → 404; another replica (or this one) already running a
   * cycle → 409.
   */
  async reconcileNow(templateId?: string): Promise<ReconcileNowResponse> {
    if (templateId && !(await this.catalog.templateExists(templateId))) {
      throw new PrebuildsException(PrebuildsErrorCode.TemplateNotFound, `template ${templateId} not found`);
    }
    const result = templateId
      ? await this.reconciler.reconcileTemplate(templateId)
      : await this.reconciler.reconcileAll();
    if (!result.acquired) {
      throw new PrebuildsException(
        PrebuildsErrorCode.ReconcileInProgress,
        'a reconcile cycle is already running (on this or another replica); try again shortly',
      );
    }
    return {
      acquired: true,
      paused: result.paused,
      elapsedMs: Math.round(result.elapsedMs),
      presets: result.presets,
    };
  }

  async getSettings(): Promise<{ reconciliationPaused: boolean }> {
    const settings = await this.settings.get();
    return { reconciliationPaused: settings.reconciliationPaused };
  }

  async setPaused(paused: boolean, actor: string): Promise<{ reconciliationPaused: boolean }> {
    await this.settings.setPaused(paused);
    this.observer.recordPaused(paused);
    this.logger.log({
      msg: paused ? 'reconciliation paused' : 'reconciliation resumed',
      event: 'pause_changed',
      paused,
      actor,
    });
    return { reconciliationPaused: paused };
  }

  /** Back to healthy with a failure reset; a no-op for a healthy preset. Wakes the reconciler for its template. */
  async resumePreset(presetId: string, actor: string): Promise<{ presetId: string; status: 'healthy' }> {
    const templateId = await this.presets.resume(presetId, this.clock.now(), this.options.failureHardLimit);
    if (!templateId)
      throw new PrebuildsException(PrebuildsErrorCode.PresetNotFound, `preset ${presetId} not found`);
    this.logger.log({ msg: 'preset resumed', event: 'preset_resumed', presetId, actor });
    await wakeTemplate(this.pubsub, this.logger, templateId);
    return { presetId, status: 'healthy' };
  }
}
