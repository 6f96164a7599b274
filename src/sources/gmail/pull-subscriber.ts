// Pub/Sub pull, for deployments with no public URL: a streaming-pull subscriber
// (@google-cloud/pubsub) on the configured subscription. Each message is acknowledged only after
// the sync request it implies is committed; a database failure nacks it, so Pub/Sub redelivers.
// PUBSUB_EMULATOR_HOST points the client at an emulator (the fake in tests), without credentials.
import type { Message } from "@google-cloud/pubsub";
import type { Context } from "../../context.ts";
import { createNotificationIntake } from "./accept-notification.ts";
import { decodeGmailNotification } from "./gmail-notification.ts";

export type PullSubscriber = { subscriptionName: string; isOpen(): boolean; close(): Promise<void> };

export async function startPullSubscriber(ctx: Context, subscriptionName: string): Promise<PullSubscriber> {
  // Loaded by the first pull subscriber, not at start: most installations never use pull delivery.
  const { PubSub } = await import("@google-cloud/pubsub");
  const projectId = /^projects\/([^/]+)\/subscriptions\/[^/]+$/.exec(subscriptionName)?.[1];
  const emulator = ctx.config.google.pubsubEmulatorHost;
  // With an emulator there are no credentials to look up: naming the universe keeps the auth
  // library from asking the GCE metadata server for it.
  const pubsub = new PubSub({ projectId, ...(emulator ? { apiEndpoint: emulator, emulatorMode: true, universeDomain: "googleapis.com" } : {}) });
  const subscription = pubsub.subscription(subscriptionName, { flowControl: { maxMessages: 100 } });
  const acceptGmailNotification = createNotificationIntake(ctx);

  const handle = async (message: Message) => {
    const decoded = decodeGmailNotification(message.data);
    if (!decoded.ok) {
      ctx.log.warn({ subscriptionName, messageId: message.id, reason: decoded.reason }, "Pub/Sub message is not a Gmail notification; acknowledged and ignored");
      message.ack();
      return;
    }
    try {
      const accepted = await acceptGmailNotification(decoded.notification);
      if (accepted.kind === "unknown_mailbox") {
        ctx.log.warn({ subscriptionName, emailAddress: accepted.emailAddress }, "Gmail notification for a mailbox no Gmail source reads; acknowledged");
      }
      message.ack();
    } catch (err) {
      if (!ctx.databaseOutage.report(err)) ctx.log.error({ err, subscriptionName, messageId: message.id }, "recording a Gmail notification failed; Pub/Sub redelivers it");
      message.nack();
    }
  };

  subscription.on("message", (message: Message) => void handle(message));
  subscription.on("error", (err: Error) => {
    // The client reconnects on retryable stream errors by itself; what reaches here needs a person.
    ctx.log.error({ err, subscriptionName }, "Pub/Sub subscriber failed: check the subscription name and the service account's Pub/Sub Subscriber role");
  });

  return {
    subscriptionName,
    isOpen: () => subscription.isOpen,
    close: async () => {
      subscription.removeAllListeners("message");
      await subscription.close().catch((err: unknown) => ctx.log.warn({ err, subscriptionName }, "closing the Pub/Sub subscriber failed"));
      await pubsub.close().catch(() => undefined);
    },
  };
}
