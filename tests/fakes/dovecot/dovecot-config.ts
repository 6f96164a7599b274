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
    "service imap-login {",
    "  chroot =",
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
