// The guide's optional post-processing once a message is stored: add a label (e.g. "Ticketed",
// created when missing) and/or remove UNREAD. Needs the gmail.modify scope. A failure here never
// holds mail back: it is logged on the source and the sync goes on.
import type { Context } from "../../context.ts";

import { classifyGmailError } from "./gmail-failure.ts";
import type { GmailSession } from "./gmail-session.ts";
import { recordError } from "../../db/error-log.ts";

export type PostProcessor = (messageId: string) => Promise<void>;

export function createPostProcessor(ctx: Context, session: GmailSession): PostProcessor | null {
  const { addLabel, markRead } = session.source.config.postProcess;
  if (!addLabel && !markRead) return null;
  let labelId: Promise<string> | null = null;
  return async (messageId) => {
    try {
      if (addLabel) labelId ??= findOrCreateLabel(session, addLabel);
      const addLabelIds = addLabel ? [await labelId!] : [];
      await session.gmail.users.messages.modify({
        userId: "me",
        id: messageId,
        requestBody: { addLabelIds, removeLabelIds: markRead ? ["UNREAD"] : [] },
      });
    } catch (err) {
      labelId = null;
      const failure = classifyGmailError(err);
      const sourceId = session.source.row.id;
      ctx.log.warn({ sourceId, messageId, failure }, "Gmail post-processing failed");
      await recordError(ctx.db, {
        at: ctx.clock.now(),
        sourceId,
        kind: "post_process_failed",
        message: `Labelling Gmail message ${messageId} failed: ${failure.message}`,
        details: { messageId, code: failure.code },
      });
    }
  };
}

async function findOrCreateLabel(session: GmailSession, name: string): Promise<string> {
  const { data } = await session.gmail.users.labels.list({ userId: "me" });
  const found = (data.labels ?? []).find((l) => l.name?.toLowerCase() === name.toLowerCase());
  if (found?.id) return found.id;
  const created = await session.gmail.users.labels.create({
    userId: "me",
    requestBody: { name, labelListVisibility: "labelShow", messageListVisibility: "show" },
  });
  return created.data.id!;
}
