// graph_fetch: one message's raw MIME (GET /me/messages/{id}/$value), stored under its immutable
// id in the same transaction that completes the request. Repeats and created+updated pairs fold:
// an id already stored is not fetched again. Fetches that end at the same time are stored and
// completed together, in one transaction (createFetchStore, a group commit).
import { ResponseType } from "@microsoft/microsoft-graph-client";
import type { Context } from "../../context.ts";
import { createGroupCommit } from "../../db/group-commit.ts";
import { INTAKE_BATCH, storeInboundCopies } from "../../db/inbound-store.ts";

import { completeGraphFetches, completeGraphWork, type GraphWork } from "./graph-work-queue.ts";
import { HttpFailure, requestTimeout, type GraphSession } from "./graph-session.ts";
import { recordError } from "../../db/error-log.ts";

export type FetchOutcome =
  | { kind: "stored"; created: boolean }
  | { kind: "already_stored" }
  | { kind: "gone" }
  | { kind: "too_large"; size: number };

/** Stores a fetched message and completes its request, in one transaction; resolves with whether it was new. */
export type StoreFetched = (fetched: { work: GraphWork; raw: Buffer }) => Promise<boolean>;

export function createFetchStore(ctx: Context): StoreFetched {
  const group = createGroupCommit(
    {
      write: (batch: { work: GraphWork; raw: Buffer }[]) =>
        ctx.db.transaction(async (tx) => {
          await completeGraphFetches(tx, batch.map((f) => f.work));
          const receivedAt = ctx.clock.now();
          const mails = batch.map(({ work, raw }) => ({ sourceIds: [work.sourceId], providerMessageId: work.key, raw, receivedAt }));
          return (await storeInboundCopies(tx, mails)).map((outcome) => outcome.created > 0);
        }),
      afterCommit: () => ctx.database.wake("inbound"),
    },
    INTAKE_BATCH,
  );
  return group.submit;
}

export async function fetchGraphMessage(ctx: Context, session: GraphSession, store: StoreFetched, work: GraphWork): Promise<FetchOutcome> {
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
  if (raw.length > limit) {
    await ctx.db.transaction(async (tx) => {
      await completeGraphWork(tx, work);
      await recordError(tx, {
        at: ctx.clock.now(),
        sourceId: work.sourceId,
        kind: "message_too_large",
        message: `Message ${messageId} is ${raw.length} bytes, over MAX_MESSAGE_BYTES (${limit}); it stays in the mailbox, unfetched; raise the limit to take such messages.`,
        details: { providerMessageId: messageId, size: raw.length, limit },
      });
    });
    return { kind: "too_large", size: raw.length };
  }
  return { kind: "stored", created: await store({ work, raw }) };
}
