// One Gmail message as raw RFC 822 bytes (messages.get format=raw: base64url in `raw`), with its
// labels, or null when it was deleted before mailgate got to it.
import type { GmailSession } from "./gmail-session.ts";
import { classifyGmailError } from "./gmail-failure.ts";

export type RawMessage = { id: string; raw: Buffer; labelIds: string[]; internalDate: Date | null };

export async function fetchRawMessage(session: GmailSession, id: string): Promise<RawMessage | null> {
  try {
    const res = await session.gmail.users.messages.get({ userId: "me", id, format: "raw" });
    const raw = Buffer.from(res.data.raw ?? "", "base64url");
    const internalDate = res.data.internalDate ? new Date(Number(res.data.internalDate)) : null;
    return { id, raw, labelIds: res.data.labelIds ?? [], internalDate };
  } catch (err) {
    if (classifyGmailError(err).kind === "not_found") return null;
    throw err;
  }
}
