import { describe, expect, it } from "vitest";
import { describeSmtpFailure } from "../../../src/sources/imap/describe-smtp-error.ts";
import type { SmtpConfig } from "../../../src/sources/imap/smtp-sender.ts";

const config: SmtpConfig = { host: "smtp.example.com", port: 587, security: "starttls", user: "support@example.com" };
const codeOf = (reason: string, c: SmtpConfig = config) => describeSmtpFailure(reason, c).code;

describe("describeSmtpFailure", () => {
  it("When the server refuses the login, then it is auth, with the server's words and what to check", () => {
    expect(describeSmtpFailure("535 5.7.8 Username and Password not accepted", config)).toEqual({
      code: "auth",
      message: 'SMTP login failed for user support@example.com on smtp.example.com:587: the server said "535 5.7.8 Username and Password not accepted"; check the user and password, or use an app-specific password.',
    });
    expect(codeOf("534-5.7.9 Application-specific password required")).toBe("auth");
    expect(codeOf("Invalid login: 535 Authentication failed")).toBe("auth");
  });

  it("When the name, the port or the network fails, then it is dns, refused or timeout", () => {
    expect(codeOf("getaddrinfo ENOTFOUND smtp.example.con")).toBe("dns");
    expect(codeOf("connect ECONNREFUSED 127.0.0.1:587")).toBe("refused");
    expect(codeOf("Timeout")).toBe("timeout");
    expect(codeOf("Greeting never received")).toBe("timeout");
  });

  it("When TLS fails, or a STARTTLS server answers the command as unknown, then it is tls", () => {
    expect(codeOf("self-signed certificate")).toBe("tls");
    expect(codeOf("unable to verify the first certificate")).toBe("tls");
    expect(codeOf("80FC:error:0A00010B:SSL routines:ssl3_get_record:wrong version number")).toBe("tls");
    expect(describeSmtpFailure("500 Error: command not recognized", config).message).toContain("did not accept STARTTLS");
    expect(codeOf("500 Error: command not recognized", { ...config, security: "ssl" })).toBe("smtp");
  });

  it("When nothing is recognised, then the server's words are told as they are", () => {
    expect(describeSmtpFailure("421 4.3.2 Service not available", config)).toEqual({
      code: "smtp",
      message: 'The SMTP server smtp.example.com:587 refused the login test: it said "421 4.3.2 Service not available".',
    });
  });
});
