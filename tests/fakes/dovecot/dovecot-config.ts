// The dovecot.conf of a throwaway test server: IMAP only, on one loopback port, plain-text
// passwords from a passwd-file, Maildir under the server's own temp folder, no TLS.

export type DovecotConfigInput = {
  dir: string;
  port: number;
  instanceName: string;
  /** The uid/gid mail is stored as: never 0 (Dovecot refuses root for mail access). */
  mailUid: number;
  mailGid: number;
  /** Set when not running as root: Dovecot cannot switch users, so every process runs as this one. */
  runAsUser?: string;
  /** Folders the server flags with a special use (RFC 6154) once a user creates them, e.g. {"Outbox Copies": "\\Sent"}. */
  specialUse?: Record<string, string>;
  /** Raises the process and client limits for this many concurrent IMAP sessions (bench:mailboxes); unset = Dovecot's defaults. */
  clients?: number;
};

export function dovecotConfig(c: DovecotConfigInput): string {
  const lines = [
    `base_dir = ${c.dir}/run`,
    `state_dir = ${c.dir}/state`,
    `instance_name = ${c.instanceName}`,
    `log_path = ${c.dir}/dovecot.log`,
    "protocols = imap",
    "listen = 127.0.0.1",
    "ssl = no",
    "disable_plaintext_auth = no",
    "auth_mechanisms = plain login",
    // Tests try wrong passwords on purpose; the default 2 s penalty only slows them down.
    "auth_failure_delay = 0",
    "mail_max_userip_connections = 200",
    "first_valid_uid = 1",
    `mail_location = maildir:${c.dir}/mail/%u`,
    ...(c.runAsUser ? [`default_login_user = ${c.runAsUser}`, `default_internal_user = ${c.runAsUser}`] : []),
    "passdb {",
    "  driver = passwd-file",
    `  args = scheme=PLAIN username_format=%u ${c.dir}/users`,
    "}",
    "userdb {",
    "  driver = static",
    `  args = uid=${c.mailUid} gid=${c.mailGid} home=${c.dir}/mail/%u`,
    "}",
    ...specialUseLines(c.specialUse),
    ...capacityLines(c.clients),
    "service imap-login {",
    "  chroot =",
    ...loginCapacityLines(c.clients),
    "  inet_listener imap {",
    "    address = 127.0.0.1",
    `    port = ${c.port}`,
    "  }",
    "  inet_listener imaps {",
    "    port = 0",
    "  }",
    "}",
    "service anvil {",
    "  chroot =",
    ...(c.clients ? [`  client_limit = ${anvilClients(c.clients)}`] : []),
    // Dovecot's documented switch for its growing per-IP penalty after failed logins.
    "  unix_listener anvil-auth-penalty {",
    "    mode = 0",
    "  }",
    "}",
  ];
  return lines.join("\n") + "\n";
}

function specialUseLines(specialUse: Record<string, string> | undefined): string[] {
  if (!specialUse) return [];
  const mailboxes = Object.entries(specialUse).flatMap(([name, use]) => [`  mailbox "${name}" {`, `    special_use = ${use}`, "  }"]);
  return ["namespace inbox {", "  inbox = yes", ...mailboxes, "}"];
}

/**
 * One imap process per session (imap's default client_limit of 1), so the process limits grow with
 * the sessions; every login and imap process keeps a connection to anvil, and every login
 * process one to auth, which Dovecot checks at start ("client_limit is lower than required").
 */
function capacityLines(clients: number | undefined): string[] {
  if (!clients) return [];
  return [
    `default_process_limit = ${clients + 100}`,
    `default_client_limit = ${clients + 200}`,
    "service imap {",
    `  process_limit = ${clients + 50}`,
    "}",
    "service auth {",
    `  client_limit = ${anvilClients(clients)}`,
    "}",
  ];
}

/** High-performance mode: a few long-lived login processes, each taking many connections. */
function loginCapacityLines(clients: number | undefined): string[] {
  if (!clients) return [];
  return ["  service_count = 0", "  process_min_avail = 2", `  client_limit = ${clients + 100}`];
}

const anvilClients = (clients: number) => 2 * (clients + 100) + 100;
