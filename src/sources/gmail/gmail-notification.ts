// What Gmail publishes to Pub/Sub on a mailbox change: base64 JSON {emailAddress, historyId}.
// historyId arrives as a number or a string (and can pass 2^53), so it is kept as a BigInt.
export type GmailNotification = { emailAddress: string; historyId: bigint };

export type DecodedNotification = { ok: true; notification: GmailNotification } | { ok: false; reason: string };

export function decodeGmailNotification(data: string | Buffer | Uint8Array | null | undefined): DecodedNotification {
  if (data === null || data === undefined || data.length === 0) return { ok: false, reason: "the message has no data" };
  const text = typeof data === "string" ? Buffer.from(data, "base64").toString("utf8") : Buffer.from(data).toString("utf8");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: "the message data is not JSON" };
  }
  if (typeof body !== "object" || body === null) return { ok: false, reason: "the message data is not a JSON object" };
  const { emailAddress, historyId } = body as Record<string, unknown>;
  if (typeof emailAddress !== "string" || !emailAddress.includes("@")) {
    return { ok: false, reason: "the message data has no emailAddress" };
  }
  // No address holds one, and Postgres could not look it up: it would fail again on every redelivery.
  if (emailAddress.includes("\0")) return { ok: false, reason: "the message data's emailAddress holds a NUL character" };
  const id = parseHistoryId(historyId);
  if (id === null) return { ok: false, reason: "the message data has no valid historyId" };
  return { ok: true, notification: { emailAddress: emailAddress.trim().toLowerCase(), historyId: id } };
}

export function parseHistoryId(value: unknown): bigint | null {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return BigInt(value);
  if (typeof value === "string" && /^[0-9]{1,30}$/.test(value) && value !== "0") return BigInt(value);
  if (typeof value === "bigint" && value > 0n) return value;
  return null;
}
