// Whether an attachment is kept, by the guide's rules ("Attachments: Save to ticket, ignore",
// "Verify attachment limit (default 25MB)", "Check allowed file types"). A skipped attachment
// is still listed with its reason, so "Attachments Missing" can be answered.
import type { TicketRules } from "../settings/ticket-rules.ts";

export type AttachmentDecision = { save: true } | { save: false; reason: string };

export function decideAttachment(
  att: { filename: string; contentType: string; size: number },
  rules: TicketRules["attachments"],
): AttachmentDecision {
  if (rules.mode === "ignore") return { save: false, reason: "attachments are set to ignore" };
  if (att.size > rules.maxBytes) {
    return { save: false, reason: `${att.filename} is ${formatBytes(att.size)}, over the attachment limit of ${formatBytes(rules.maxBytes)}` };
  }
  if (rules.allowedTypes.length > 0 && !isAllowedType(att, rules.allowedTypes)) {
    const extension = extensionOf(att.filename);
    const type = `${mimeType(att.contentType) || "unknown type"}${extension ? ` (${extension})` : ""}`;
    return { save: false, reason: `${att.filename} is ${type}, not one of the allowed types: ${rules.allowedTypes.join(", ")}` };
  }
  return { save: true };
}

/**
 * An entry with a "/" is a MIME type, exact or "type/*"; anything else is an extension, with or
 * without its dot (".pdf", "pdf"). All case-insensitive.
 */
function isAllowedType(att: { filename: string; contentType: string }, allowed: string[]): boolean {
  const type = mimeType(att.contentType);
  const extension = extensionOf(att.filename);
  return allowed.some((entry) => {
    const rule = entry.trim().toLowerCase();
    if (rule.includes("/")) return rule.endsWith("/*") ? type.startsWith(rule.slice(0, -1)) : type === rule;
    const wanted = rule.startsWith(".") ? rule : `.${rule}`;
    return extension !== null && extension === wanted;
  });
}

function mimeType(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

function extensionOf(filename: string): string | null {
  const dot = filename.lastIndexOf(".");
  return dot <= 0 || dot === filename.length - 1 ? null : filename.slice(dot).toLowerCase();
}

// Rounded for reading, exact for comparing: 25 MB + 1 byte must not read as "25.0 MB over 25.0 MB".
function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const rounded = bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${rounded} (${bytes} bytes)`;
}
