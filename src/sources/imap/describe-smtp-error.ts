// Turns the reason an SMTP login failed (verifySmtp's words: the server's reply, or what Node or
// nodemailer said) into a stable code and a sentence an administrator can act on, as
// describe-imap-error.ts does for IMAP. The server's own words are always kept in the sentence.
import type { SmtpConfig } from "./smtp-sender.ts";

export type SmtpFailureCode = "dns" | "refused" | "tls" | "auth" | "timeout" | "smtp";

export type SmtpFailure = { code: SmtpFailureCode; message: string };

const AUTH_REPLY = /^(530|534|535|538)\b|authentication|credentials|invalid login|username and password/i;
const TLS_WORDS = /certificate|ssl routines|wrong version number|tls|handshake|self[- ]signed/i;
// A server that does not offer STARTTLS answers the command as unknown: nodemailer never sends
// AUTH before TLS with `starttls`, so under that setting such an answer is about STARTTLS.
const UNKNOWN_COMMAND = /^50[02]\b|command not recognized|not implemented/i;

export function describeSmtpFailure(reason: string, config: SmtpConfig): SmtpFailure {
  const where = `${config.host}:${config.port}`;
  const said = `"${reason.trim()}"`;
  if (/ENOTFOUND|EAI_AGAIN/.test(reason)) {
    return { code: "dns", message: `The SMTP server name "${config.host}" cannot be resolved (${said}); check the server address, e.g. smtp.fastmail.com.` };
  }
  if (/ECONNREFUSED/.test(reason)) {
    return { code: "refused", message: `${where} refused the connection; check the port (587 for STARTTLS, 465 for SSL/TLS) and that the server accepts SMTP.` };
  }
  if (AUTH_REPLY.test(reason)) {
    return {
      code: "auth",
      message: `SMTP login failed for user ${config.user} on ${where}: the server said ${said}; check the user and password, or use an app-specific password.`,
    };
  }
  if (config.security === "starttls" && UNKNOWN_COMMAND.test(reason)) {
    return {
      code: "tls",
      message: `${where} did not accept STARTTLS (the server said ${said}); it may offer SSL/TLS instead (usually port 465). The password was not sent.`,
    };
  }
  if (TLS_WORDS.test(reason)) {
    return {
      code: "tls",
      message: `The TLS handshake with ${where} failed (${said}); check the security setting (STARTTLS on 587, SSL/TLS on 465) and the server's certificate.`,
    };
  }
  if (/timeout|timed out|ETIMEDOUT|greeting never received/i.test(reason)) {
    return { code: "timeout", message: `${where} did not answer in time (${said}); check the server address, the port and any firewall in between.` };
  }
  return { code: "smtp", message: `The SMTP server ${where} refused the login test: it said ${said}.` };
}
