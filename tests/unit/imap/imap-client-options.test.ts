import { describe, expect, it } from "vitest";
import { imapClientOptions, IDLE_REISSUE_MS, SOCKET_TIMEOUT_MS } from "../../../src/sources/imap/imap-client-options.ts";
import type { ImapConfig } from "../../../src/sources/source-config.ts";

const config = (security: ImapConfig["security"], port = 993): ImapConfig => ({
  host: "imap.mail.me.com",
  port,
  security,
  user: "support@icloud.com",
  folder: "INBOX",
  postProcess: { action: "none" },
});

describe("imapClientOptions", () => {
  it("uses implicit TLS for ssl, a mandatory upgrade for starttls, and plain text only for none", () => {
    expect(imapClientOptions({ config: config("ssl"), password: "p", logger: false })).toMatchObject({ secure: true, doSTARTTLS: undefined });
    expect(imapClientOptions({ config: config("starttls", 143), password: "p", logger: false })).toMatchObject({ secure: false, doSTARTTLS: true });
    expect(imapClientOptions({ config: config("none", 143), password: "p", logger: false })).toMatchObject({ secure: false, doSTARTTLS: false });
  });

  it("enters IDLE at once and re-issues it well before the 29-minute server limit and the socket watchdog", () => {
    const options = imapClientOptions({ config: config("ssl"), password: "p", logger: false });
    expect(options.autoIdleDelay).toBe(0);
    expect(options.maxIdleTime).toBe(IDLE_REISSUE_MS);
    expect(IDLE_REISSUE_MS).toBeLessThan(Math.min(29 * 60_000, SOCKET_TIMEOUT_MS));
  });

  it("logs in as the configured user with the opened password", () => {
    expect(imapClientOptions({ config: config("ssl"), password: "app-specific", logger: false }).auth).toEqual({
      user: "support@icloud.com",
      pass: "app-specific",
    });
  });
});
