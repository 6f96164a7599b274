// Turns what imapflow, node:net, node:tls or node:dns threw into a stable code and a sentence an
// administrator can act on. Used by Test Connection and by the supervisor's status/last_error.

export type ImapFailureCode = "config" | "dns" | "refused" | "tls" | "auth" | "missing_folder" | "timeout" | "closed" | "unknown";

export type ImapFailure = {
  code: ImapFailureCode;
  message: string;
  /** True when retrying cannot help until someone changes the settings (or the server's). */
  settingsProblem: boolean;
};

export type ImapTarget = { host: string; port: number; user: string; folder: string };

/** The fields imapflow and Node attach to their errors; every one may be missing. */
type ErrorFields = {
  message?: unknown;
  code?: unknown;
  authenticationFailed?: unknown;
  tlsFailed?: unknown;
  mailboxMissing?: unknown;
  serverResponseCode?: unknown;
  responseText?: unknown;
  response?: unknown;
  reason?: unknown;
  cause?: unknown;
  _err?: unknown;
};

const TIMEOUT_CODES = new Set(["CONNECT_TIMEOUT", "GREETING_TIMEOUT", "UPGRADE_TIMEOUT", "ETIMEOUT", "ETIMEDOUT", "TIMEOUT"]);
const CLOSED_CODES = new Set(["NoConnection", "EConnectionClosed", "ClosedAfterConnectText", "ClosedAfterConnectTLS", "ECONNRESET", "EPIPE", "StateLogout"]);
const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(GET|VERIFY)_|EPROTO$|HOSTNAME_MISMATCH$)/;

/** The error and the errors it wraps, outermost first. */
function chain(err: unknown): ErrorFields[] {
  const out: ErrorFields[] = [];
  let current: unknown = err;
  while (current !== null && typeof current === "object" && out.length < 5) {
    const fields = current as ErrorFields;
    out.push(fields);
    current = fields._err ?? fields.cause;
  }
  return out;
}

const text = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);

export function describeImapError(err: unknown, target: ImapTarget): ImapFailure {
  const errors = chain(err);
  const first = errors[0] ?? { message: String(err) };
  const codes = errors.map((e) => text(e.code)).filter((c): c is string => c !== undefined);
  const detail = text(first.responseText) ?? text(first.reason) ?? text(first.message) ?? "no details";
  const where = `${target.host}:${target.port}`;

  if (errors.some((e) => e.authenticationFailed === true || e.serverResponseCode === "AUTHENTICATIONFAILED" || e.serverResponseCode === "AUTHORIZATIONFAILED")) {
    return {
      code: "auth",
      message: `IMAP login failed for user ${target.user}: the server said "${detail}"; check the password or use an app-specific password.`,
      settingsProblem: true,
    };
  }
  if (errors.some((e) => e.mailboxMissing === true || e.serverResponseCode === "NONEXISTENT")) {
    return {
      code: "missing_folder",
      message: `The folder "${target.folder}" does not exist for user ${target.user} on ${where} (the server said "${detail}"); check the folder name, e.g. INBOX.`,
      settingsProblem: true,
    };
  }
  if (codes.includes("ENOTFOUND") || codes.includes("EAI_AGAIN")) {
    return {
      code: "dns",
      message: `The IMAP server name "${target.host}" cannot be resolved (${codes.includes("ENOTFOUND") ? "ENOTFOUND" : "EAI_AGAIN"}); check the server address, e.g. imap.fastmail.com.`,
      settingsProblem: codes.includes("ENOTFOUND"),
    };
  }
  if (codes.includes("ECONNREFUSED")) {
    return {
      code: "refused",
      message: `${where} refused the connection; check the port (993 for SSL/TLS, 143 for STARTTLS) and that the server accepts IMAP.`,
      settingsProblem: false,
    };
  }
  const tlsCode = codes.find((c) => TLS_CODE.test(c));
  if (tlsCode !== undefined || errors.some((e) => e.tlsFailed === true)) {
    return {
      code: "tls",
      message: `The TLS handshake with ${where} failed (${tlsCode ?? detail}); check the security setting (SSL/TLS on 993, STARTTLS on 143) and the server's certificate.`,
      settingsProblem: true,
    };
  }
  const timeoutCode = codes.find((c) => TIMEOUT_CODES.has(c));
  if (timeoutCode !== undefined) {
    return {
      code: "timeout",
      message: `${where} did not answer in time (${timeoutCode}); check the server address, the port and any firewall in between.`,
      settingsProblem: false,
    };
  }
  if (codes.some((c) => CLOSED_CODES.has(c))) {
    return { code: "closed", message: `The connection to ${where} was closed: ${detail}.`, settingsProblem: false };
  }
  return { code: "unknown", message: `IMAP error from ${where}: ${detail}${codes[0] ? ` (${codes[0]})` : ""}.`, settingsProblem: false };
}
