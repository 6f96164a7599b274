// A posted HTML form as bytes per field: multipart/form-data (RFC 7578) or
// application/x-www-form-urlencoded. Raw MIME travels in a form field, and mail need not be
// UTF-8: a field's bytes are kept as sent, never decoded to a string on the way.

export type ParsedForm = { ok: true; fields: Map<string, Buffer> } | { ok: false; reason: string };

const CRLF_CRLF = Buffer.from("\r\n\r\n");

export function parseForm(body: Buffer, contentType: string | undefined): ParsedForm {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "multipart/form-data") return parseMultipart(body, contentType!);
  if (type === "application/x-www-form-urlencoded") return parseUrlEncoded(body);
  return { ok: false, reason: `expected a form (multipart/form-data or application/x-www-form-urlencoded), got Content-Type ${JSON.stringify(contentType ?? "")}` };
}

/** The first value of each field (a repeated field keeps its first). */
function parseMultipart(body: Buffer, contentType: string): ParsedForm {
  const boundary = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) return { ok: false, reason: "multipart/form-data without a boundary" };
  const delimiter = Buffer.from(`--${marker}`);
  const fields = new Map<string, Buffer>();
  let at = body.indexOf(delimiter);
  if (at < 0) return { ok: false, reason: "the multipart body has no part" };
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString("latin1") === "--") return { ok: true, fields };
    const headersEnd = body.indexOf(CRLF_CRLF, at);
    if (headersEnd < 0) return { ok: false, reason: "a multipart part has no end of headers" };
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), headersEnd + 4);
    if (next < 0) return { ok: false, reason: "the multipart body is cut short (no closing boundary)" };
    const headers = body.subarray(at, headersEnd).toString("utf8");
    const name = /content-disposition:[^\r\n]*?;\s*name="([^"]*)"/i.exec(headers)?.[1] ?? /content-disposition:[^\r\n]*?;\s*name=([^;\s]+)/i.exec(headers)?.[1];
    if (name !== undefined && !fields.has(name)) fields.set(name, body.subarray(headersEnd + 4, next));
    at = next + 2;
  }
}

function parseUrlEncoded(body: Buffer): ParsedForm {
  const fields = new Map<string, Buffer>();
  for (const pair of body.toString("latin1").split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq)).toString("utf8");
    if (!fields.has(name)) fields.set(name, decodeComponent(eq < 0 ? "" : pair.slice(eq + 1)));
  }
  return { ok: true, fields };
}

/** Percent-decoding to bytes ("+" is a space), so a field that is not UTF-8 survives. */
function decodeComponent(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2b) bytes.push(0x20);
    else if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes);
}
