// Gmail messages into the durable intake, idempotent on the Gmail message id: fetched raw,
// stored, then post-processed. The syncs of concurrent mailboxes store through one group commit
// (createMessageStore): messages fetched at the same time go in one INSERT, with one wake.
import { and, eq, inArray } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { createGroupCommit } from "../../db/group-commit.ts";
import { INTAKE_BATCH, storeInboundCopies, type HandedOverMail } from "../../db/inbound-store.ts";
import { inboundMessages } from "../../db/schema.ts";
import { fetchRawMessage } from "./fetch-raw-message.ts";
import type { GmailSession } from "./gmail-session.ts";
import { isSkippedByLabels } from "./history-plan.ts";
import { createPostProcessor } from "./post-process.ts";
import { recordError } from "../../db/error-log.ts";

/** Stores one message; resolves once it is committed, with 1 when it was new, 0 when it was stored before. */
export type StoreMessage = (mail: { sourceId: string; providerMessageId: string; raw: Buffer; receivedAt: Date }) => Promise<{ created: number }>;

export function createMessageStore(ctx: Context): StoreMessage {
  const group = createGroupCommit(
    { write: (mails: HandedOverMail[]) => storeInboundCopies(ctx.db, mails), afterCommit: () => ctx.database.wake("inbound") },
    INTAKE_BATCH,
  );
  return ({ sourceId, ...mail }) => group.submit({ ...mail, sourceIds: [sourceId] });
}

/** Stores the messages (in the given order); returns how many were new. */
export async function storeMessages(ctx: Context, session: GmailSession, store: StoreMessage, ids: readonly string[]): Promise<number> {
  const sourceId = session.source.row.id;
  const postProcess = createPostProcessor(ctx, session);
  let created = 0;
  for (const id of ids) {
    const message = await fetchRawMessage(session, id);
    if (!message || isSkippedByLabels(message.labelIds)) continue;
    if (message.raw.length > ctx.config.maxMessageBytes) {
      await recordTooLarge(ctx, sourceId, id, message.raw.length);
      continue;
    }
    created += (await store({ sourceId, providerMessageId: id, raw: message.raw, receivedAt: ctx.clock.now() })).created;
    if (postProcess) await postProcess(id);
  }
  return created;
}

/** Of these Gmail ids, the ones this source has not stored yet (a resync fetches only those). */
export async function unseenIds(ctx: Context, sourceId: string, ids: readonly string[]): Promise<string[]> {
  const known = new Set<string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const rows = await ctx.db
      .select({ id: inboundMessages.providerMessageId })
      .from(inboundMessages)
      .where(and(eq(inboundMessages.sourceId, sourceId), inArray(inboundMessages.providerMessageId, chunk)));
    for (const r of rows) known.add(r.id);
  }
  return ids.filter((id) => !known.has(id));
}

async function recordTooLarge(ctx: Context, sourceId: string, id: string, size: number): Promise<void> {
  const message = `Gmail message ${id} is ${size} bytes, over MAX_MESSAGE_BYTES (${ctx.config.maxMessageBytes}); it was not stored. Raise MAX_MESSAGE_BYTES and send the message to the mailbox again to take it in.`;
  ctx.log.error({ sourceId, messageId: id, size }, message);
  await recordError(ctx.db, { at: ctx.clock.now(), sourceId, kind: "message_too_large", message, details: { messageId: id, size } });
}
