import { describe, expect, it } from "vitest";
import { AppError, type FieldProblem } from "../../../src/errors.ts";
import { parseWith } from "../../../src/http/validate.ts";
import { createSourceInput, storedBlockOf } from "../../../src/sources/source-input.ts";

const imap = { host: "imap.example.com", user: "support@example.com", password: "imap-pass" };
const body = (kind: string, smtp: unknown, extra: Record<string, unknown> = {}) => ({
  kind,
  name: "Support",
  address: "support@example.com",
  role: "system",
  ...(kind === "imap" ? { imap } : {}),
  smtp,
  ...extra,
});

const problems = (value: unknown): FieldProblem[] => {
  try {
    parseWith(createSourceInput, value);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).httpStatus).toBe(400);
    return (err as AppError).details as FieldProblem[];
  }
  throw new Error("expected a validation error");
};

describe("the smtp block of a new source", () => {
  it("When only the server, user and password are given, then it sends over STARTTLS on 587 and keeps no Sent copy", () => {
    const input = parseWith(createSourceInput, body("imap", { host: "smtp.example.com", user: "support@example.com", password: "smtp-pass" }));
    expect(input.smtp).toEqual({ host: "smtp.example.com", port: 587, security: "starttls", user: "support@example.com", password: "smtp-pass", saveToSent: false });
  });

  it("When it is stored, then its password is sealed beside the IMAP one and the config holds the rest", () => {
    const input = parseWith(createSourceInput, body("imap", { host: "smtp.example.com", user: "u", password: "smtp-pass", saveToSent: true }));
    const stored = storedBlockOf(input);
    expect(stored.secrets).toEqual({ password: "imap-pass", smtpPassword: "smtp-pass" });
    expect(stored.config.smtp).toEqual({ host: "smtp.example.com", port: 587, security: "starttls", user: "u", saveToSent: true });
    expect(JSON.stringify(stored.config)).not.toContain("smtp-pass");
  });

  it("When the server, user or password is missing, then each is named as required", () => {
    expect(problems(body("imap", {}))).toEqual([
      { field: "smtp.host", message: "required: a string" },
      { field: "smtp.user", message: "required: a string" },
      { field: "smtp.password", message: "required: a string" },
    ]);
  });

  it("When the port, the security or a field is wrong, then the field is named with what it takes", () => {
    const found = problems(body("imap", { host: "h", user: "u", password: "p", port: 0, security: "tls", savetosent: true }));
    expect(found).toEqual([
      { field: "smtp.port", message: "expected a port from 1 to 65535" },
      { field: "smtp.security", message: expect.stringContaining('"ssl"|"starttls"|"none"') },
      { field: "smtp.savetosent", message: "unknown field; remove it" },
    ]);
  });

  it("When a Gmail or Microsoft 365 source is given one, then it is refused: they send through their provider", () => {
    const gmail = { clientId: "c", clientSecret: "s", redirectUri: "https://m.example.com/cb" };
    expect(problems(body("gmail", { host: "h", user: "u", password: "p" }, { gmail }))).toEqual([
      { field: "smtp", message: 'only for kinds "imap", "api", "smtp" and "inbound-webhook"; a gmail source sends through its provider\'s API: remove it' },
    ]);
  });

  it("When an api source asks for a Sent copy, then it is refused: it has no mailbox", () => {
    expect(problems(body("api", { host: "h", user: "u", password: "p", saveToSent: true, sentFolder: "Sent" })).map((p) => p.field)).toEqual([
      "smtp.saveToSent",
      "smtp.sentFolder",
    ]);
    expect(parseWith(createSourceInput, body("api", { host: "h", user: "u", password: "p" })).smtp).toMatchObject({ saveToSent: false });
  });
});
