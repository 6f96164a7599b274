// A deleted source stops its provider's pushes at once, from the instance that deletes it:
// users.stop for a Gmail watch, DELETE for each Graph subscription. Done before the row goes, as
// the calls need its tokens. Best effort: a failure is logged and the deletion goes on; the watch
// or subscription then lapses on its own (Gmail within 7 days, Graph at its expiry), and pushes
// for a source that no longer exists are answered and ignored.
import { eq } from "drizzle-orm";
import type { Context } from "../context.ts";
import { pushSubscriptions } from "../db/schema.ts";
import type { SourceRecord } from "../db/sources.ts";
import { openGmailSession } from "./gmail/gmail-session.ts";
import { openGmailSource } from "./gmail/gmail-source.ts";
import { stopWatch } from "./gmail/watch.ts";
import { deleteGraphSubscription } from "./graph/graph-subscription.ts";

export async function releasePushSubscriptions(ctx: Context, source: SourceRecord): Promise<void> {
  try {
    if (source.kind === "gmail") {
      const { config, secrets } = openGmailSource(ctx, source);
      if (config.topicName && (secrets.tokens?.refresh_token || secrets.tokens?.access_token)) await stopWatch(ctx, openGmailSession(ctx, source));
    }
    if (source.kind === "graph") {
      for (const row of await ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.sourceId, source.id))) {
        await deleteGraphSubscription(ctx, row);
      }
    }
  } catch (err) {
    ctx.log.warn({ err, sourceId: source.id, kind: source.kind }, "could not end the deleted source's push subscription; it lapses on its own");
  }
}
