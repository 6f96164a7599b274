// Sending one outgoing message (its MIME built once, outbound/build-message.ts) through a Gmail
// source: users.messages.send with the raw bytes, in the ticket's Gmail thread when it is known,
// and what Google's answer means for the outbox.
import { classifyGmailError } from "./gmail-failure.ts";
import type { GmailSession } from "./gmail-session.ts";

export type GmailSendOutcome =
  | { kind: "sent"; providerId: string; threadId: string | null }
  /** Google refused the stored authorization: the message waits for the source to be authorized again. */
  | { kind: "waiting_for_authorization"; error: string }
  | { kind: "transient"; error: string; retryAfterMs?: number }
  | { kind: "permanent"; error: string };

/**
 * `threadId` is the Gmail thread of the ticket's mail, when it came through Gmail: Gmail files the
 * reply there only when the subject and the thread headers agree, and otherwise starts a new
 * thread (not an error). The `gmail.modify` scope the source already holds allows sending.
 */
export async function sendViaGmail(session: GmailSession, raw: Buffer, threadId: string | null): Promise<GmailSendOutcome> {
  try {
    const res = await session.gmail.users.messages.send({
      userId: "me",
      requestBody: { raw: raw.toString("base64url"), ...(threadId ? { threadId } : {}) },
    });
    return { kind: "sent", providerId: res.data.id ?? "", threadId: res.data.threadId ?? null };
  } catch (err) {
    const failure = classifyGmailError(err);
    switch (failure.kind) {
      case "reauth":
        return { kind: "waiting_for_authorization", error: failure.message };
      case "rate_limited":
        return { kind: "transient", error: failure.message, ...(failure.retryAfterMs ? { retryAfterMs: failure.retryAfterMs } : {}) };
      case "transient":
        return { kind: "transient", error: failure.message };
      default:
        return { kind: "permanent", error: failure.message };
    }
  } finally {
    await session.flush();
  }
}
