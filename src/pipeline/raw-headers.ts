// Reading header fields straight from raw bytes, for the few places where mailparser's decoded view
// is not what we need: hashing the header block of a mail without a Message-ID, and finding the
// Message-ID of the original mail inside a bounce.

export type RawHeaderField = { name: string; value: string };

/**
 * The header block of a message or MIME part: everything before the first empty line. Both CRLF
 * and bare LF count, because Gmail's API and some IMAP servers hand out LF-only messages. With
 * no empty line the whole input is headers (a message with no body).
 */
export function headerBlockOf(raw: Buffer): Buffer {
  const crlf = raw.indexOf("\r\n\r\n");
  const lf = raw.indexOf("\n\n");
  const ends = [crlf === -1 ? -1 : crlf + 2, lf === -1 ? -1 : lf + 1].filter((i) => i >= 0);
  return ends.length === 0 ? raw : raw.subarray(0, Math.min(...ends));
}

/**
 * Header fields in order, continuation lines unfolded, names lower-cased, values trimmed. Lines
 * that are neither a field nor a continuation (garbage, a From_ line of an mbox) are skipped.
 */
export function parseHeaderFields(block: Buffer): RawHeaderField[] {
  const fields: RawHeaderField[] = [];
  // latin1 keeps one char per byte, so 8-bit header bytes survive to be hashed or matched as-is.
  for (const line of block.toString("latin1").split(/\r?\n/)) {
    const last = fields[fields.length - 1];
    if (/^[ \t]/.test(line)) {
      if (last) last.value = `${last.value} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    fields.push({ name, value: line.slice(colon + 1).trim() });
  }
  return fields;
}
