// The errors below are shaped like the ones imapflow, node:net, node:tls and node:dns raise.
import { describe, expect, it } from "vitest";
import { describeImapError } from "../../../src/sources/imap/describe-imap-error.ts";

const target = { host: "imap.fastmail.com", port: 993, user: "support@msp.example", folder: "INBOX" };
const error = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe("describeImapError", () => {
  it("names the user and quotes the server when the login is refused, and suggests an app-specific password", () => {
    const err = error("Command failed", {
      authenticationFailed: true,
      serverResponseCode: "AUTHENTICATIONFAILED",
      responseText: "Authentication failed.",
      response: "2 NO [AUTHENTICATIONFAILED] Authentication failed.",
    });
    expect(describeImapError(err, target)).toEqual({
      code: "auth",
      message:
        'IMAP login failed for user support@msp.example: the server said "Authentication failed."; check the password or use an app-specific password.',
      settingsProblem: true,
    });
  });

  it("reports a missing folder by name", () => {
    const err = error("Command failed", { mailboxMissing: true, responseStatus: "NO", responseText: "Mailbox doesn't exist: Support" });
    const failure = describeImapError(err, { ...target, folder: "Support" });
    expect(failure.code).toBe("missing_folder");
    expect(failure.message).toContain('The folder "Support" does not exist for user support@msp.example');
  });

  it("tells an unknown host name (a setting to fix) from a DNS hiccup (worth retrying)", () => {
    expect(describeImapError(error("getaddrinfo ENOTFOUND imap.fastmial.com", { code: "ENOTFOUND" }), target)).toMatchObject({
      code: "dns",
      settingsProblem: true,
    });
    expect(describeImapError(error("getaddrinfo EAI_AGAIN", { code: "EAI_AGAIN" }), target)).toMatchObject({ code: "dns", settingsProblem: false });
  });

  it("suggests the usual ports when the connection is refused", () => {
    const failure = describeImapError(error("connect ECONNREFUSED 127.0.0.1:993", { code: "ECONNREFUSED" }), target);
    expect(failure.code).toBe("refused");
    expect(failure.message).toContain("993 for SSL/TLS, 143 for STARTTLS");
  });

  it("recognises TLS failures, also when imapflow wraps the socket's error", () => {
    const wrapped = error("Failed to establish connection", { code: "NoConnection", _err: error("wrong version number", { code: "ERR_SSL_WRONG_VERSION_NUMBER" }) });
    expect(describeImapError(wrapped, target)).toMatchObject({ code: "tls", settingsProblem: true });
    expect(describeImapError(error("self-signed certificate", { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }), target).message).toContain("DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(describeImapError(error("STARTTLS failed", { tlsFailed: true }), target).code).toBe("tls");
  });

  it("reports timeouts of any phase as timeout", () => {
    for (const code of ["CONNECT_TIMEOUT", "GREETING_TIMEOUT", "ETIMEOUT", "ETIMEDOUT", "TIMEOUT"]) {
      expect(describeImapError(error("timed out", { code }), target).code).toBe("timeout");
    }
  });

  it("reports a dropped connection as closed, which is worth retrying", () => {
    expect(describeImapError(error("Connection not available", { code: "NoConnection" }), target)).toMatchObject({ code: "closed", settingsProblem: false });
  });

  it("falls back to unknown with the original message and code", () => {
    expect(describeImapError(error("something odd", { code: "EWEIRD" }), target)).toEqual({
      code: "unknown",
      message: "IMAP error from imap.fastmail.com:993: something odd (EWEIRD).",
      settingsProblem: false,
    });
    expect(describeImapError("a string", target).code).toBe("unknown");
  });
});
