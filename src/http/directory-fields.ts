// The fields the directory shares: email domains and email addresses, normalised the way the
// pipeline compares them (lower-case; domains in their ASCII form, as they appear in headers).
import { domainToASCII } from "node:url";
import { z } from "zod";

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** "@Acme.COM " → "acme.com"; null when the result is not a hostname a sender could have. */
export function normaliseDomain(raw: string): string | null {
  const trimmed = raw.trim().replace(/^@/, "").replace(/\.$/, "").toLowerCase();
  if (trimmed === "" || trimmed.length > 253) return null;
  const ascii = domainToASCII(trimmed);
  if (ascii === "" || ascii.length > 253) return null;
  const labels = ascii.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return null;
  // An all-digit last label is an IP address, not a domain.
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return null;
  return ascii;
}

export const domainField = z.string().transform((raw, ctx) => {
  const domain = normaliseDomain(raw);
  if (domain === null) {
    ctx.addIssue({ code: "custom", message: `"${raw}" is not a domain; give a hostname like acme.com` });
    return z.NEVER;
  }
  return domain;
});

export const emailField = z
  .string()
  .trim()
  .toLowerCase()
  .max(320, "at most 320 characters")
  .pipe(z.email("expected an email address like jane@acme.com"));

/** Trimmed, non-empty display text. */
export const nameField = z.string().trim().min(1, "must not be empty").max(200, "at most 200 characters");
