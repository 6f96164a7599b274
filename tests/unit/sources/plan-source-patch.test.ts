import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/errors.ts";
import { planSourcePatch, type SourceState } from "../../../src/sources/plan-source-patch.ts";

const gmail = (overrides: Partial<SourceState> = {}): SourceState => ({
  kind: "gmail",
  role: "system",
  companyId: null,
  status: "needs_reauth",
  config: { clientId: "c1", redirectUri: "https://m.example.com/cb", delivery: "push", postProcess: {} },
  secrets: { clientSecret: "old-secret", tokens: { refresh_token: "r1" } },
  ...overrides,
});

const problemFields = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return ((err as AppError).details as { field: string }[]).map((p) => p.field);
  }
  throw new Error("expected a validation error");
};

describe("planSourcePatch", () => {
  it("replaces the client secret but keeps the tokens of an earlier authorization", () => {
    const plan = planSourcePatch(gmail(), { gmail: { clientSecret: "new-secret" } });
    expect(plan.secrets).toEqual({ clientSecret: "new-secret", tokens: { refresh_token: "r1" } });
    expect(plan.config).toEqual(gmail().config);
  });

  it("clears an optional setting given as null", () => {
    const plan = planSourcePatch(gmail({ config: { ...gmail().config, topicName: "projects/p/topics/t" } }), { gmail: { topicName: null } });
    expect(plan.config).not.toHaveProperty("topicName");
  });

  it("puts a source with new connection settings back to connecting and clears its last error", () => {
    const plan = planSourcePatch(gmail(), { gmail: { clientId: "c2" } });
    expect(plan).toMatchObject({ status: "connecting", clearError: true });
  });

  it("leaves a disabled source disabled when its settings change", () => {
    expect(planSourcePatch(gmail({ status: "disabled" }), { gmail: { clientId: "c2" } }).status).toBeUndefined();
  });

  it("leaves status and secrets alone when only the name changes", () => {
    const plan = planSourcePatch(gmail(), { name: "Renamed" });
    expect(plan).toEqual({ name: "Renamed", role: "system", companyId: null, clearError: false });
  });

  it("asks for a password when the stored one cannot be used", () => {
    const imap: SourceState = {
      kind: "imap",
      role: "system",
      companyId: null,
      status: "error",
      config: { host: "h", port: 993, security: "ssl", user: "u", folder: "INBOX", postProcess: { action: "none" } },
      secrets: {},
    };
    expect(problemFields(() => planSourcePatch(imap, { imap: { port: 143 } }))).toEqual(["imap.password"]);
  });

  it("drops the company when a company mailbox becomes a system mailbox, and requires one the other way", () => {
    const company = gmail({ role: "company", companyId: "7f1c2c7e-5d1a-4a53-9f3e-0a4f2b1c9d10" });
    expect(planSourcePatch(company, { role: "system" }).companyId).toBeNull();
    expect(problemFields(() => planSourcePatch(gmail(), { role: "company" }))).toEqual(["companyId"]);
  });
});

describe("planSourcePatch: the smtp block", () => {
  const imapConfig = { host: "imap.example.com", port: 993, security: "ssl", user: "u", folder: "INBOX", postProcess: { action: "none" } };
  const smtp = { host: "smtp.example.com", port: 587, security: "starttls", user: "u", saveToSent: false };
  const imap = (overrides: Partial<SourceState> = {}): SourceState => ({
    kind: "imap",
    role: "system",
    companyId: null,
    status: "error",
    config: { ...imapConfig, smtp },
    secrets: { password: "imap-pass", smtpPassword: "smtp-pass" },
    ...overrides,
  });

  it("When a block is added, then its settings and password are stored and the IMAP status and error are left alone", () => {
    const plan = planSourcePatch(imap({ config: imapConfig, secrets: { password: "imap-pass" } }), { smtp: { host: "smtp.example.com", user: "u", password: "new" } });
    expect(plan.config).toEqual({ ...imapConfig, smtp });
    expect(plan.secrets).toEqual({ password: "imap-pass", smtpPassword: "new" });
    expect(plan).toMatchObject({ clearError: false });
    expect(plan.status).toBeUndefined();
  });

  it("When part of it changes, then the stored password is kept and nothing is sealed again", () => {
    const plan = planSourcePatch(imap(), { smtp: { port: 465, security: "ssl", saveToSent: true, sentFolder: "Sent Items" } });
    expect(plan.config).toEqual({ ...imapConfig, smtp: { ...smtp, port: 465, security: "ssl", saveToSent: true, sentFolder: "Sent Items" } });
    expect(plan.secrets).toBeUndefined();
  });

  it("When the IMAP block changes, then the SMTP block stays as it was", () => {
    const plan = planSourcePatch(imap(), { imap: { port: 143, security: "starttls", password: "imap-new" } });
    expect(plan.config).toEqual({ ...imapConfig, port: 143, security: "starttls", smtp });
    expect(plan.secrets).toEqual({ password: "imap-new", smtpPassword: "smtp-pass" });
  });

  it("When it is set to null, then the block and its password are removed", () => {
    const plan = planSourcePatch(imap(), { smtp: null });
    expect(plan.config).toEqual(imapConfig);
    expect(plan.secrets).toEqual({ password: "imap-pass" });
  });

  it("When a part is sent for a source without a block, then the missing fields are named", () => {
    expect(problemFields(() => planSourcePatch(imap({ config: imapConfig, secrets: { password: "p" } }), { smtp: { port: 465 } }))).toEqual([
      "smtp.host",
      "smtp.user",
      "smtp.password",
    ]);
  });

  it("When an api source asks for a Sent copy, or a Gmail source for a block, then it is refused naming the field", () => {
    const api = imap({ kind: "api", config: { smtp }, secrets: { smtpPassword: "smtp-pass" } });
    expect(problemFields(() => planSourcePatch(api, { smtp: { saveToSent: true } }))).toEqual(["smtp.saveToSent"]);
    expect(planSourcePatch(api, { smtp: { sentFolder: null } }).config).toEqual({ smtp });
    expect(problemFields(() => planSourcePatch(gmail(), { smtp: { host: "h" } }))).toEqual(["smtp"]);
  });
});
