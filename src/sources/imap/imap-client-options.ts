// How mailgate talks to an IMAP server: the imapflow options for one source's settings.
import type { ImapFlowOptions, Logger as ImapLogger } from "imapflow";
import type { ImapConfig } from "../source-config.ts";

/**
 * IDLE is broken and re-issued this often: far below the 29 minutes RFC 2177 allows a server to
 * wait before it drops an idle client, and below imapflow's 5-minute socket watchdog, so a
 * half-open connection (a NAT that forgot us) is noticed within minutes.
 */
export const IDLE_REISSUE_MS = 4 * 60_000;
export const CONNECTION_TIMEOUT_MS = 30_000;
export const GREETING_TIMEOUT_MS = 16_000;
export const SOCKET_TIMEOUT_MS = 5 * 60_000;

export type ClientOptionsInput = {
  /** The server and login; the folder settings are the caller's business. */
  config: Pick<ImapConfig, "host" | "port" | "security" | "user">;
  password: string;
  logger: ImapLogger | false;
  /** Overrides for Test Connection, which has one overall budget. */
  timeouts?: { connectionMs?: number; greetingMs?: number; socketMs?: number };
};

export function imapClientOptions({ config, password, logger, timeouts = {} }: ClientOptionsInput): ImapFlowOptions {
  return {
    host: config.host,
    port: config.port,
    secure: config.security === "ssl",
    // starttls: upgrade or fail, never send the password in clear; none: local servers only.
    doSTARTTLS: config.security === "starttls" ? true : config.security === "none" ? false : undefined,
    auth: { user: config.user, pass: password },
    logger,
    // imapflow waits 15 s of quiet before its automatic IDLE; mail arriving in that gap would
    // wait for it. The supervisor holds a mailbox lock while it syncs, so IDLE cannot slip in
    // between its own commands.
    autoIdleDelay: 0,
    maxIdleTime: IDLE_REISSUE_MS,
    connectionTimeout: timeouts.connectionMs ?? CONNECTION_TIMEOUT_MS,
    greetingTimeout: timeouts.greetingMs ?? GREETING_TIMEOUT_MS,
    socketTimeout: timeouts.socketMs ?? SOCKET_TIMEOUT_MS,
    clientInfo: { name: "mailgate" },
  };
}
