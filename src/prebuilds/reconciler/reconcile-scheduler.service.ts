import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { SchedulerRegistry } from '@nestjs/schedule';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import { PrebuildsChannel, type TemplateMessage } from '../pubsub/channels.js';
import { PrebuildsPubsub } from '../pubsub/prebuilds-pubsub.js';
import { ReconcilerService } from './reconciler.service.js';

const INTERVAL_NAME = 'prebuilds-reconcile';
/** A template-scoped cycle that could not run (lock held elsewhere, or a cycle in flight here) is retried. */
const RETRY_DELAY_MS = 250;
const MAX_RETRIES = 40;

/**
 * When cycles run: on the interval, once right after start, and early (debounced per template) when a NOTIFY says
 * a template, preset or job changed or a prebuild was claimed. NOTIFY is only a hint; the interval alone converges.
 */
@Injectable()
export class ReconcileScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new PrebuildsLogger('PrebuildsReconciler');
  private running = false;
  private unsubscribers: (() => void)[] = [];
  private readonly pendingTemplates = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | null = null;
  private startTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly reconciler: ReconcilerService,
    private readonly registry: SchedulerRegistry,
    private readonly pubsub: PrebuildsPubsub,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.enabled) this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.registry.addInterval(
      INTERVAL_NAME,
      setInterval(() => this.tick(), this.options.reconcileIntervalMs),
    );
    const wake = (payload: unknown) => this.enqueue((payload as TemplateMessage | null)?.templateId);
    this.unsubscribers = [
      PrebuildsChannel.JobCompleted,
      PrebuildsChannel.TemplateChanged,
      PrebuildsChannel.WorkspaceClaimed,
    ].map((channel) => this.pubsub.subscribe(channel, wake));
    this.startTimer = setTimeout(() => this.tick(), 0);
    this.logger.log({
      msg: 'reconciler started',
      event: 'reconciler_started',
      intervalMs: this.options.reconcileIntervalMs,
    });
  }

  /** Idempotent. Waits, up to shutdownTimeoutMs, for the cycle in flight. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.registry.doesExist('interval', INTERVAL_NAME)) this.registry.deleteInterval(INTERVAL_NAME);
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
    for (const timer of [this.flushTimer, this.startTimer]) if (timer) clearTimeout(timer);
    this.pendingTemplates.clear();
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      this.reconciler.idle(),
      new Promise((resolve) => (timeout = setTimeout(resolve, this.options.shutdownTimeoutMs))),
    ]);
    clearTimeout(timeout);
    this.logger.log({ msg: 'reconciler stopped', event: 'reconciler_stopped' });
  }

  private tick(): void {
    if (!this.running) return;
    this.reconciler
      .reconcileAll()
      .catch((error: Error) =>
        this.logger.error({ msg: 'reconcile cycle failed', event: 'cycle_failed', error: error.message }),
      );
  }

  private enqueue(templateId: string | undefined, attempt = 0): void {
    if (!this.running || typeof templateId !== 'string') return;
    this.pendingTemplates.set(templateId, Math.max(attempt, this.pendingTemplates.get(templateId) ?? 0));
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(
        () => void this.flush(),
        attempt > 0 ? RETRY_DELAY_MS : this.options.notifyDebounceMs,
      );
    }
  }

  private async flush(): Promise<void> {
    this.flushTimer = null;
    const batch = [...this.pendingTemplates];
    this.pendingTemplates.clear();
    for (const [templateId, attempt] of batch) {
      if (!this.running) return;
      try {
        const result = await this.reconciler.reconcileTemplate(templateId);
        if (!result.acquired && attempt < MAX_RETRIES) this.enqueue(templateId, attempt + 1);
      } catch (error) {
        this.logger.error({
          msg: 'template reconcile failed',
          event: 'cycle_failed',
          templateId,
          error: (error as Error).message,
        });
      }
    }
  }
}
