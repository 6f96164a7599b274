// graph_fetch: one message's raw MIME (GET /me/messages/{id}/$value), stored under its immutable
// id in the same transaction that completes the request. Repeats and created+updated pairs fold:
// an id already stored is not fetched again.
import { ResponseType } from "@microsoft/microsoft-graph-client";
import type { Context } from "../../context.ts";
import { storeInbound } from "../../db/inbound-store.ts";

import { completeGraphWork, type GraphWork } from "./graph-work-queue.ts";
import { HttpFailure, requestTimeout, type GraphSession } from "./graph-session.ts";
import { recordError } from "../../db/error-log.ts";

export type FetchOutcome =
  | { kind: "stored"; inboundMessageId: string }
  | { kind: "already_stored" }
  | { kind: "gone" }
  | { kind: "too_large"; size: number };

export async function fetchGraphMessage(ctx: Context, session: GraphSession, work: GraphWork): Promise<FetchOutcome> {
  const messageId = work.key;
  if (work.alreadyStored) {
    await completeGraphWork(ctx.db, work);
    return { kind: "already_stored" };
  }
  const res = (await session.client
    .api(`/me/messages/${encodeURIComponent(messageId)}/$value`)
    .responseType(ResponseType.RAW)
    .option("signal", requestTimeout())
    .get()) as Response;
  if (res.status === 404) {
    // Deleted (or moved out of reach) before we got to it: nothing left to ticket.
    await res.body?.cancel();
    await completeGraphWork(ctx.db, work);
    return { kind: "gone" };
  }
  if (!res.ok) throw await HttpFailure.from(res, `Fetching message ${messageId}`);
  const raw = Buffer.from(await res.arrayBuffer());
  const limit = ctx.config.maxMessageBytes;
  const outcome = await ctx.db.transaction(async (tx): Promise<FetchOutcome> => {
    await completeGraphWork(tx, work);
    if (raw.length > limit) {
      await recordError(tx, {
        at: ctx.clock.now(),
        sourceId: work.sourceId,
        kind: "message_too_large",
        message: `Message ${messageId} is ${raw.length} bytes, over MAX_MESSAGE_BYTES (${limit}); it stays in the mailbox, unfetched; raise the limit to take such messages.`,
        details: { providerMessageId: messageId, size: raw.length, limit },
      });
      return { kind: "too_large", size: raw.length };
    }
    const stored = await storeInbound(tx, { sourceId: work.sourceId, providerMessageId: messageId, raw, receivedAt: ctx.clock.now() });
    return { kind: "stored", inboundMessageId: stored.id };
  });
  if (outcome.kind === "stored") ctx.database.wake("inbound");
  return outcome;
}
