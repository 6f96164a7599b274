// The file name mailgate gives an attachment. A sender's name is untrusted text: it can hold a
// path ("../../etc/passwd"), header-breaking line ends, or a right-to-left override that shows
// "invoice\u202egnp.exe" as "invoiceexe.png". safeAttachmentFilename makes the one name the API, the
// webhooks and the download's Content-Disposition all carry; the sender's own stays alongside it
// as originalFilename, for display only. An attachment that came without a name (inline images,
// bounce reports, forwarded messages, calendar invitations) gets one from what the part says
// about itself (fallbackAttachmentFilename).

const EXTENSIONS: Record<string, string> = {
  "application/pdf": "pdf",
  "application/zip": "zip",
  "application/json": "json",
  "application/xml": "xml",
  "application/msword": "doc",
  "application/vnd.ms-excel": "xls",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
  "application/ms-tnef": "dat",
  "application/pkcs7-signature": "p7s",
  "application/x-pkcs7-signature": "p7s",
  "application/pkcs7-mime": "p7m",
  "application/pgp-signature": "asc",
  "application/pgp-encrypted": "pgp",
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/bmp": "bmp",
  "image/tiff": "tif",
  "image/svg+xml": "svg",
  "audio/mpeg": "mp3",
  "video/mp4": "mp4",
  "video/quicktime": "mov",
  "text/plain": "txt",
  "text/html": "html",
  "text/csv": "csv",
  "text/calendar": "ics",
  "text/rfc822-headers": "txt",
  "message/rfc822": "eml",
  "message/global": "eml",
  "message/delivery-status": "txt",
  "message/disposition-notification": "txt",
};

export type FilenameHints = {
  contentType: string;
  /** 1-based position among the message's attachments. */
  position: number;
  /** Content-Description, e.g. "Delivery report" on a bounce's status part. */
  description?: string | null;
  /** Content-ID without brackets; Outlook's look like "image001.jpg@01CDB132.D8A510F0". */
  contentId?: string | null;
  /** Subject of an attached message, the name mail clients give a forwarded .eml. */
  embeddedSubject?: string | null;
};

/** The usual extension of a MIME type ("pdf" for "application/pdf; name=x"), or null when unknown. */
export function extensionForContentType(contentType: string): string | null {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return EXTENSIONS[type] ?? null;
}

/** ext4, XFS, APFS and NTFS all take 255 (bytes, or UTF-16 units, never more than UTF-8 bytes). */
export const MAX_FILENAME_BYTES = 255;
// An extension longer than this is part of the name, not a type, and is cut like the rest.
const MAX_EXTENSION_BYTES = 32;
// Half a UTF-16 pair is no character: it cannot be encoded as UTF-8 or stored as JSON in Postgres.
const LONE_SURROGATE = /\p{Cs}/gu;
// Invisible characters: format characters (bidi overrides and isolates, zero-width spaces and
// joiners, soft hyphens, tags) and the other default-ignorable ones (variation selectors, Hangul
// fillers that render blank). Removed, not replaced: what shows of the name stays as it was.
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
// Control characters, line and paragraph separators and every kind of space read as one space.
const SPACING = /[\p{Cc}\p{Z}\s]+/gu;
// Path separators (/ \ and the drive or stream colon) and the rest of what Windows refuses in a
// name: a receiver may save the file on any system.
const RESERVED = /[/\\:*?"<>|]/g;
// Names Windows takes for devices whatever their extension ("con.txt" is the console).
const DEVICE_NAME = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

/**
 * A name that is safe to show, to put in a header and to save as a file on any common system:
 * NFC, no invisible or control characters, no path separators or characters Windows refuses, no
 * leading dots (no hidden files, never "." or ".."), no trailing dots or spaces, not a Windows
 * device name, at most 255 bytes of UTF-8 with the extension kept when it is cut. When nothing
 * is left, "attachment" with the content type's extension. Applying it twice changes nothing.
 */
export function safeAttachmentFilename(name: string | null | undefined, contentType: string): string {
  const cleaned = (name ?? "")
    .replace(LONE_SURROGATE, "\uFFFD")
    .normalize("NFC")
    .replace(INVISIBLE, "")
    .replace(SPACING, " ")
    .replace(RESERVED, "_")
    .replace(/^[.\s]+|[.\s]+$/g, "");
  const named = DEVICE_NAME.test(cleaned) ? `_${cleaned}` : cleaned;
  if (named !== "") return truncated(named);
  const extension = extensionForContentType(contentType);
  return extension ? `attachment.${extension}` : "attachment";
}

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** Cut at whole characters (grapheme clusters) from the end of the stem, the extension kept. */
function truncated(name: string): string {
  if (utf8Bytes(name) <= MAX_FILENAME_BYTES) return name;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 && utf8Bytes(name.slice(dot)) <= MAX_EXTENSION_BYTES ? name.slice(dot) : "";
  const stem = extension ? name.slice(0, dot) : name;
  const budget = MAX_FILENAME_BYTES - utf8Bytes(extension);
  const graphemes = Array.from(new Intl.Segmenter("en", { granularity: "grapheme" }).segment(stem), (s) => s.segment);
  // A first "character" over the budget (a letter under hundreds of accents) is cut by code point.
  const kept = prefixWithin(graphemes, budget) || prefixWithin(Array.from(stem), budget);
  // A cut can end the stem on a space or a dot ("report ..pdf"); the name starts with neither.
  return kept.replace(/[.\s]+$/, "") + extension;
}

function prefixWithin(pieces: string[], budget: number): string {
  let kept = "";
  for (const piece of pieces) {
    budget -= utf8Bytes(piece);
    if (budget < 0) break;
    kept += piece;
  }
  return kept;
}

/**
 * The attached message's subject, a Content-Description, or a Content-ID that is a file name; else
 * "attachment-<n>.<ext>". The extension comes from the MIME type, "bin" when it says nothing.
 */
export function fallbackAttachmentFilename(hints: FilenameHints): string {
  const extension = extensionForContentType(hints.contentType) ?? "bin";
  const cidName = /^([\w.-]+\.[a-z0-9]{2,5})@/i.exec(hints.contentId ?? "")?.[1];
  const stem = safeStem(hints.embeddedSubject) ?? safeStem(hints.description);
  if (stem) return `${stem}.${extension}`;
  if (cidName) return cidName;
  return `attachment-${hints.position}.${extension}`;
}

/** A name part that cannot escape a folder or break a header: no separators, no controls, bounded. */
function safeStem(value: string | null | undefined): string | null {
  const stem = (value ?? "")
    .replace(/[\p{Cc}/\\]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 150)
    .trim();
  return stem === "" || /^\.+$/.test(stem) ? null : stem;
}
