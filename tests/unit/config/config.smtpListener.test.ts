import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../src/config.ts";

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

describe("parseConfig: the SMTP listener", () => {
  it("When SMTP_LISTEN is unset, then there is no listener", () => {
    expect(parseConfig({}).smtpListener).toBeNull();
  });

  it("When SMTP_LISTEN is host:port, then the listener binds there with the default limits", () => {
    expect(parseConfig({ SMTP_LISTEN: "0.0.0.0:25" }).smtpListener).toEqual({
      host: "0.0.0.0",
      port: 25,
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      maxClients: 100,
      maxRecipients: 50,
      maxMessagesPerConnection: 1000,
      maxRefusedRecipients: 20,
      allowFrom: [],
    });
    expect(parseConfig({ SMTP_LISTEN: "[::]:2525", SMTP_ALLOW_FROM: "10.0.0.0/8, 2001:db8::/32,192.0.2.7" }).smtpListener).toMatchObject({
      host: "::",
      port: 2525,
      allowFrom: ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"],
    });
  });

  it("When a value is wrong, then the start stops naming the variable and what it expects", () => {
    expect(problemsOf({ SMTP_LISTEN: "25" })).toEqual([expect.stringMatching(/^SMTP_LISTEN: expected host:port/)]);
    expect(problemsOf({ SMTP_LISTEN: "0.0.0.0:99999" })).toEqual([expect.stringMatching(/^SMTP_LISTEN: /)]);
    expect(problemsOf({ SMTP_ALLOW_FROM: "10.0.0.0/33" })).toEqual([expect.stringMatching(/^SMTP_ALLOW_FROM: "10.0.0.0\/33" is not an address or CIDR range/)]);
    expect(problemsOf({ SMTP_TLS_CERT: "/etc/ssl/mx.pem" })).toEqual([expect.stringMatching(/^SMTP_TLS_KEY: required with SMTP_TLS_CERT/)]);
  });
});
