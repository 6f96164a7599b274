// Headers for serving a stored file: a Content-Disposition whose filename survives any characters
// (RFC 6266 with an RFC 5987 `filename*`), and a Content-Type that cannot break the header.

/** `attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded` (the latter only when needed). */
export function contentDisposition(filename: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = filename.replace(/[\u0000-\u001f\u007f]/g, "").trim() || "attachment";
  const fallback = clean.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  if (fallback === clean) return `attachment; filename="${fallback}"`;
  const encoded = encodeURIComponent(clean).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(\s*;\s*[a-z0-9!#$&^_.+-]+=("[\x20-\x21\x23-\x7e]*"|[a-z0-9!#$&^_.+-]+))*$/i;

/** The stored type when it is a well-formed media type, else application/octet-stream. */
export function safeContentType(value: string): string {
  const trimmed = value.trim();
  return MEDIA_TYPE.test(trimmed) ? trimmed : "application/octet-stream";
}
