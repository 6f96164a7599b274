import { describe, expect, it } from "vitest";
import { hasSmtpBlock, smtpSettingsOf } from "../../../src/sources/smtp-settings.ts";

const smtp = { host: "smtp.fastmail.com", port: 465, security: "ssl", user: "support@msp.example", saveToSent: true, sentFolder: "Sent Items" };
const imapConfig = { host: "imap.fastmail.com", port: 993, security: "ssl", user: "support@msp.example", folder: "INBOX", postProcess: { action: "none" } };

describe("smtpSettingsOf", () => {
  it("When an IMAP source has an SMTP block, then sending gets its server, its own password and where the copy goes", () => {
    const source = { id: "s1", kind: "imap", config: { ...imapConfig, smtp } };
    expect(smtpSettingsOf(source, { password: "imap-pass", smtpPassword: "smtp-pass" })).toEqual({
      config: { host: "smtp.fastmail.com", port: 465, security: "ssl", user: "support@msp.example" },
      password: "smtp-pass",
      saveToSent: true,
      sentFolder: "Sent Items",
    });
  });

  it("When an api source has an SMTP block, then no copy is saved: it has no mailbox", () => {
    const source = { id: "s2", kind: "api", config: { smtp: { ...smtp, sentFolder: undefined } } };
    expect(smtpSettingsOf(source, { smtpPassword: "smtp-pass" })).toMatchObject({ saveToSent: false, sentFolder: undefined });
  });

  it("When a source has no SMTP block, or is of a kind that sends through its provider, then there are no settings", () => {
    expect(smtpSettingsOf({ id: "s3", kind: "imap", config: imapConfig }, { password: "p" })).toBeNull();
    expect(smtpSettingsOf({ id: "s4", kind: "gmail", config: { smtp } }, { smtpPassword: "p" })).toBeNull();
    expect(hasSmtpBlock({ kind: "api", config: {} })).toBe(false);
    expect(hasSmtpBlock({ kind: "api", config: { smtp } })).toBe(true);
  });

  it("When the block is stored but its password cannot be found, then it says how to set one", () => {
    expect(() => smtpSettingsOf({ id: "s5", kind: "imap", config: { ...imapConfig, smtp } }, {})).toThrow(
      "Mail source s5 has an SMTP block but no stored SMTP password; set smtp.password with PATCH /api/sources/s5.",
    );
  });
});
