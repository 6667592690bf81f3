import type { PrebuildsChannel } from '../../src/prebuilds/pubsub/channels.js';
import { PrebuildsPubsub } from '../../src/prebuilds/pubsub/prebuilds-pubsub.js';

/**
 * An in-memory pubsub that records what was published and delivers it in process (like one replica hearing its own
 * NOTIFY); `failing` makes every publish reject.
 */
export class RecordingPubsub extends PrebuildsPubsub {
  readonly published: { channel: PrebuildsChannel; payload: object }[] = [];
  private readonly handlers = new Map<PrebuildsChannel, Set<(payload: unknown) => void>>();

  constructor(private readonly failing = false) {
    super();
  }

  async publish(channel: PrebuildsChannel, payload: object): Promise<void> {
    if (this.failing) throw new Error('publish failed (test)');
    this.published.push({ channel, payload });
    for (const handler of this.handlers.get(channel) ?? []) handler(payload);
  }

  subscribe(channel: PrebuildsChannel, handler: (payload: unknown) => void): () => void {
    const set = this.handlers.get(channel) ?? new Set();
    set.add(handler);
    this.handlers.set(channel, set);
    return () => set.delete(handler);
  }

  subscribers(channel: PrebuildsChannel): number {
    return this.handlers.get(channel)?.size ?? 0;
  }
}
