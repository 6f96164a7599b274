// An outgoing mail is also a message of its ticket (direction outbound), and its Message-ID is
// linked to the ticket, so the customer's answer threads back by header even when the subject
// was changed. Written with the batch writer the pipeline uses (pending-writes.ts).
import type { Executor } from "../db/client.ts";
import { flushPendingWrites, pendingWrites, type PendingWrites } from "../db/pending-writes.ts";
import { stageTicketMessage } from "../db/ticket-store.ts";
import type { OutboundMessage } from "./build-message.ts";
import { createHash } from "node:crypto";

export type OutboundTicketMessage = {
  ticketId: string;
  outboundMessageId: string;
  kind: "reply" | "auto_reply";
  message: OutboundMessage;
  /** The message's Message-ID in the stored normal form. */
  messageId: string;
};

export function stageOutboundTicketMessage(m: OutboundTicketMessage, writes: PendingWrites = pendingWrites()): PendingWrites {
  const { message } = m;
  stageTicketMessage(writes, {
    ticketId: m.ticketId,
    inboundMessageId: null,
    outboundMessageId: m.outboundMessageId,
    kind: m.kind,
    from: { address: message.from.address, name: message.from.name ?? "" },
    to: message.to.map(mailbox),
    cc: (message.cc ?? []).map(mailbox),
    subject: message.subject,
    text: message.text,
    html: message.html ?? null,
    messageId: m.messageId,
    receivedAt: message.date,
    saved: (message.attachments ?? []).map((a) => ({
      filename: a.filename,
      originalFilename: a.filename,
      contentType: a.contentType,
      size: a.content.length,
      sha256: createHash("sha256").update(a.content).digest("hex"),
      contentId: null,
      inline: false,
      content: a.content,
    })),
    skipped: [],
  });
  writes.links.push({ messageId: m.messageId, ticketId: m.ticketId });
  return writes;
}

export function writeStaged(executor: Executor, writes: PendingWrites, now: Date): Promise<void> {
  return flushPendingWrites(executor, writes, now);
}

const mailbox = (a: { address: string; name?: string | null }) => ({ address: a.address, name: a.name ?? "" });
