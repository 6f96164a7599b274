import { describe, expect, it } from "vitest";
import { decideAttachment } from "../../../src/pipeline/attachment-policy.ts";
import { DEFAULT_TICKET_RULES, type TicketRules } from "../../../src/settings/ticket-rules.ts";

const rules = (overrides: Partial<TicketRules["attachments"]> = {}): TicketRules["attachments"] => ({ ...DEFAULT_TICKET_RULES.attachments, ...overrides });
const pdf = { filename: "Invoice.PDF", contentType: "application/pdf", size: 20_000 };

describe("decideAttachment", () => {
  it("When the defaults apply (save, 25 MB, any type), then an ordinary attachment is saved", () => {
    expect(decideAttachment(pdf, rules())).toEqual({ save: true });
  });

  it("When attachments are set to ignore, then none is saved and the reason says so", () => {
    expect(decideAttachment(pdf, rules({ mode: "ignore" }))).toEqual({ save: false, reason: "attachments are set to ignore" });
  });

  it("When an attachment is over the limit, then it is skipped with its size and the limit named", () => {
    const decision = decideAttachment({ ...pdf, size: 30 * 1024 * 1024 }, rules());
    expect(decision).toEqual({
      save: false,
      reason: "Invoice.PDF is 30.0 MB (31457280 bytes), over the attachment limit of 25.0 MB (26214400 bytes)",
    });
  });

  it("When an attachment is exactly at the limit, then it is saved", () => {
    expect(decideAttachment({ ...pdf, size: 1000 }, rules({ maxBytes: 1000 }))).toEqual({ save: true });
  });

  it("When allowed types list the extension, then the extension matches whatever its case", () => {
    expect(decideAttachment(pdf, rules({ allowedTypes: [".pdf"] }))).toEqual({ save: true });
    expect(decideAttachment(pdf, rules({ allowedTypes: ["PDF"] }))).toEqual({ save: true });
  });

  it("When allowed types list the MIME type or its wildcard, then the type matches", () => {
    expect(decideAttachment(pdf, rules({ allowedTypes: ["application/pdf"] }))).toEqual({ save: true });
    expect(decideAttachment({ filename: "x.bin", contentType: "image/PNG; name=x", size: 1 }, rules({ allowedTypes: ["image/*"] }))).toEqual({ save: true });
  });

  it("When the type is not allowed, then it is skipped and the reason names the type", () => {
    const decision = decideAttachment({ filename: "setup.exe", contentType: "application/x-msdownload", size: 10 }, rules({ allowedTypes: [".pdf", "image/*"] }));
    expect(decision).toEqual({ save: false, reason: "setup.exe is application/x-msdownload (.exe), not one of the allowed types: .pdf, image/*" });
  });

  it("When a wildcard's prefix is only part of a type name, then it does not match", () => {
    expect(decideAttachment({ filename: "a", contentType: "imagery/x", size: 1 }, rules({ allowedTypes: ["image/*"] })).save).toBe(false);
  });

  it("When a file has no extension, then only the MIME type can allow it", () => {
    expect(decideAttachment({ filename: "README", contentType: "text/plain", size: 1 }, rules({ allowedTypes: [".txt"] })).save).toBe(false);
  });
});
