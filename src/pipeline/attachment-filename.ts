// A file name for an attachment that came without one (inline images, bounce reports, forwarded
// messages, calendar invitations), so that it can be stored, listed and downloaded like any other.
// The part usually says what it is somewhere else; the name is taken from there first.

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

/**
 * The attached message's subject, a Content-Description, or a Content-ID that is a file name; else
 * "attachment-<n>.<ext>". The extension comes from the MIME type, "bin" when it says nothing.
 */
export function fallbackAttachmentFilename(hints: FilenameHints): string {
  const type = hints.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  const extension = EXTENSIONS[type] ?? "bin";
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
