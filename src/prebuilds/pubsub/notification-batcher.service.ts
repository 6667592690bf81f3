import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { InjectPrebuildsDataSource } from '../database/prebuilds-data-source.js';
import { type PrebuildEvent, PrebuildEventRepository } from '../database/prebuild-event.repository.js';
import { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { PREBUILDS_OPTIONS, type ResolvedPrebuildsOptions } from '../prebuilds.options.js';
import type { PrebuildsChannel } from './channels.js';
import { PrebuildsPubsub, type PubsubMessage } from './prebuilds-pubsub.js';

/**
 * Wake-ups and claim events that leave the process together: everything enqueued within `notifyFlushMs` goes out
 * in one transaction (one INSERT of the events, one pg_notify statement for the distinct messages). A NOTIFY
 * serialises commits on a cluster-wide lock, so one per claim caps the claim rate; one per window does not. The
 * cost is up to that window's delay on a wake-up, which only ever hurries work that the interval would do anyway.
 * What is queued at shutdown is flushed before the DataSource closes.
 */
@Injectable()
export class NotificationBatcher implements BeforeApplicationShutdown {
  private readonly logger = new PrebuildsLogger(NotificationBatcher.name);
  private messages = new Map<string, PubsubMessage>();
  private events: PrebuildEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    @InjectPrebuildsDataSource() private readonly dataSource: DataSource,
    private readonly pubsub: PrebuildsPubsub,
    private readonly eventsRepository: PrebuildEventRepository,
    @Inject(PREBUILDS_OPTIONS) private readonly options: ResolvedPrebuildsOptions,
  ) {}

  /** Queues a message; the same message twice in one window is sent once (PostgreSQL would fold them anyway). */
  publish(channel: PrebuildsChannel, payload: object): void {
    const message = { channel, payload };
    this.messages.set(`${channel}\u0000${JSON.stringify(payload)}`, message);
    this.schedule();
  }

  recordEvent(event: PrebuildEvent): void {
    this.events.push(event);
    this.schedule();
  }

  /** Sends what is queued now; resolves when it has been sent (or failed and been logged). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const messages = [...this.messages.values()];
    const events = this.events;
    this.messages = new Map();
    this.events = [];
    if (messages.length === 0 && events.length === 0) return this.flushing;
    this.flushing = this.flushing.then(() => this.send(messages, events));
    return this.flushing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private schedule(): void {
    if (this.closed || this.options.notifyFlushMs === 0) {
      void this.flush();
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), this.options.notifyFlushMs);
    this.timer.unref();
  }

  private async send(messages: PubsubMessage[], events: PrebuildEvent[]): Promise<void> {
    try {
      await this.dataSource.transaction(async (manager) => {
        await this.eventsRepository.insertMany(manager, events);
        await this.pubsub.publishMany(messages, manager);
      });
      return;
    } catch (error) {
      this.logger.warn({
        msg: 'batched wake-ups failed; sending them apart',
        event: 'notify_batch_failed',
        messages: messages.length,
        events: events.length,
        error: (error as Error).message,
      });
    }
    // Apart, so that one bad part (an event of a preset deleted meanwhile, a pubsub down) does not sink the other.
    await this.pubsub.publishMany(messages).catch((error: Error) =>
      this.logger.warn({
        msg: 'wake-ups not sent',
        event: 'notify_failed',
        messages: messages.length,
        error: error.message,
      }),
    );
    await this.eventsRepository.insertManyAlone(events).catch((error: Error) =>
      this.logger.warn({
        msg: 'claim events not recorded',
        event: 'claim_event_failed',
        events: events.length,
        error: error.message,
      }),
    );
  }
}
