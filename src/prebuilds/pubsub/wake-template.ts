import type { PrebuildsLogger } from '../logging/prebuilds-logger.js';
import { PrebuildsChannel, type TemplateMessage } from './channels.js';
import type { PrebuildsPubsub } from './prebuilds-pubsub.js';

/**
 * Tells the reconcilers that a template changed, after the change committed. A wake-up hint only: when it cannot be
 * sent, the change is still seen on the next interval, so the failure is logged and the caller carries on.
 */
export async function wakeTemplate(
  pubsub: PrebuildsPubsub,
  logger: PrebuildsLogger,
  templateId: string,
): Promise<void> {
  const message: TemplateMessage = { templateId };
  try {
    await pubsub.publish(PrebuildsChannel.TemplateChanged, message);
  } catch (error) {
    logger.warn({
      msg: 'template change not published',
      event: 'template_changed_publish_failed',
      templateId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
