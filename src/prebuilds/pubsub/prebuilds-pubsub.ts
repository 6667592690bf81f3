import type { EntityManager } from 'typeorm';
import type { PrebuildsChannel } from './channels.js';

export interface PubsubMessage {
  channel: PrebuildsChannel;
  payload: object;
}

/**
 * Publish/subscribe between replicas. The token is this abstract class; PostgresPubsub is the implementation, and
 * tests swap in a failing one to prove that nothing depends on delivery.
 */
export abstract class PrebuildsPubsub {
  /** Sends one message. Rejects when it could not be sent; callers log and carry on. */
  abstract publish(channel: PrebuildsChannel, payload: object): Promise<void>;
  /** Calls handler for every message on channel (from any replica, this one included). Returns an unsubscribe. */
  abstract subscribe(channel: PrebuildsChannel, handler: (payload: unknown) => void): () => void;
  /**
   * Sends several messages, inside `manager`'s transaction when given (they are delivered when it commits). The
   * default sends them one by one; PostgresPubsub sends them in one statement.
   */
  async publishMany(messages: PubsubMessage[], _manager?: EntityManager): Promise<void> {
    for (const message of messages) await this.publish(message.channel, message.payload);
  }
  /** Resolves once every subscription so far is live (an in-memory pubsub is live at once). */
  whenListening(): Promise<void> {
    return Promise.resolve();
  }
}
