// Decodes an unstructured header (the Subject) from its raw bytes. mailparser decodes it too, but
// trims it and turns folds into single spaces; a subject is kept as the sender wrote it (trailing
// spaces and tabs included), which is also what other helpdesks store and compare.

/**
 * @param raw the header value as a binary (latin1) string, as mailparser's headerLines carry it:
 *   folds still in, 8-bit bytes not yet decoded
 * @param fallbackCharset used for raw 8-bit text that is not UTF-8 (the message's declared charset);
 *   a function is asked only when such text is there
 */
export function decodeHeaderText(raw: string, fallbackCharset: Fallback): string {
  // RFC 5322 unfolding removes the line break only; the whitespace that follows it stays. Space
  // around the raw value is layout; a space inside an encoded word is text and is kept.
  const value = raw.replace(/\r?\n(?=[ \t])/g, "").trim();
  let out = "";
  let last = 0;
  // Adjacent words of one charset are joined before decoding: senders split multi-byte
  // characters across words.
  const pending: { charset: string; bytes: Buffer[] } = { charset: "", bytes: [] };
  const flush = () => {
    if (pending.bytes.length > 0) out += decodeBytes(Buffer.concat(pending.bytes), pending.charset, fallbackCharset);
    pending.bytes = [];
  };
  // Lenient on purpose: real mail has encoded words with spaces inside, which decoders accept.
  for (const match of value.matchAll(/=\?([^?\s]+)\?([bBqQ])\?(.*?)\?=/g)) {
    const between = value.slice(last, match.index);
    // Whitespace between two encoded words is folding, not text (RFC 2047 section 6.2).
    if (!(pending.bytes.length > 0 && /^[ \t]*$/.test(between))) {
      flush();
      out += decodeBytes(Buffer.from(between, "latin1"), null, fallbackCharset);
    }
    const charset = (match[1] ?? "").split("*")[0]!.toLowerCase();
    const bytes = decodeWordBytes(match[2] ?? "q", match[3] ?? "");
    if (pending.charset !== charset) flush();
    pending.charset = charset;
    pending.bytes.push(bytes);
    last = match.index + match[0].length;
  }
  flush();
  return out + decodeBytes(Buffer.from(value.slice(last), "latin1"), null, fallbackCharset);
}

function decodeWordBytes(encoding: string, text: string): Buffer {
  if (encoding.toLowerCase() === "b") return Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ""), "base64");
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const hex = ch === "=" ? text.slice(i + 1, i + 3) : "";
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(ch === "_" ? 0x20 : ch.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}

/** A charset, or a function that finds one when it is needed (a scan of the message). */
export type Fallback = string | null | (() => string | null);

/**
 * Raw 8-bit text (a header or a parameter sent without MIME encoding): UTF-8 when it is valid
 * UTF-8, else in the message's charset, else windows-1252.
 */
export function decodeRawText(bytes: Buffer, fallbackCharset: Fallback): string {
  return decodeBytes(bytes, null, fallbackCharset);
}

/**
 * Bytes in a named charset; without one (raw 8-bit header text), UTF-8 when they are valid UTF-8,
 * else the message's charset, else windows-1252. A charset the runtime does not know (UTF-7,
 * made-up names) is treated like no charset, so the text is kept rather than lost.
 */
function decodeBytes(bytes: Buffer, charset: string | null, fallbackCharset: Fallback): string {
  if (bytes.length === 0) return "";
  const named = charset === null ? null : decoderFor(charset);
  if (named) return decodeWith(named, bytes);
  if (bytes.every((b) => b < 0x80)) return bytes.toString("latin1");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const fallback = typeof fallbackCharset === "function" ? fallbackCharset() : fallbackCharset;
    return decodeWith(decoderFor(fallback ?? "") ?? new TextDecoder("windows-1252"), bytes);
  }
}

/**
 * ISO-2022-JP is a 7-bit charset: 8-bit bytes under that label come from a mailer that wrote
 * Shift_JIS (or EUC-JP) and named the charset Japanese mail is supposed to use. Read as
 * ISO-2022-JP they are only replacement characters.
 */
function decodeWith(decoder: InstanceType<typeof TextDecoder>, bytes: Buffer): string {
  if (decoder.encoding === "iso-2022-jp" && bytes.some((b) => b >= 0x80)) {
    for (const actual of ["shift_jis", "euc-jp"]) {
      try {
        return new TextDecoder(actual, { fatal: true }).decode(bytes);
      } catch {
        // not this one
      }
    }
  }
  return decoder.decode(bytes);
}

function decoderFor(charset: string): InstanceType<typeof TextDecoder> | null {
  try {
    return charset === "" ? null : new TextDecoder(charset);
  } catch {
    return null;
  }
}
