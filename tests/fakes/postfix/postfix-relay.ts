// A real Postfix (Debian's) as a relay for tests: a private instance (`postfix -c <dir>`) with its
// config, queue and log in a temp folder, accepting mail from loopback on a free port and relaying
// one domain to a given SMTP server (mailgate's listener), retrying deferred mail every second.
// Needs root (Postfix's master starts as root and drops to the postfix user).
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../dovecot/dovecot-server.ts";

export type PostfixRelay = {
  host: "127.0.0.1";
  port: number;
  /** Postfix's own log (maillog_file). */
  log(): string;
  /** Delivers the deferred mail now (`postfix flush`). */
  flush(): void;
  stop(): void;
};

export const findPostfix = (): string | null => (existsSync("/usr/sbin/postfix") && process.getuid?.() === 0 ? "/usr/sbin/postfix" : null);

export async function startPostfixRelay(opts: { domain: string; to: { host: string; port: number } }): Promise<PostfixRelay> {
  const postfix = findPostfix();
  if (!postfix) throw new Error("Postfix is not installed (apt-get install postfix), or this is not root");
  const dir = mkdtempSync(path.join(os.tmpdir(), "mailgate-postfix-"));
  chmodSync(dir, 0o755); // the postfix user reads its config and writes its log here
  const port = await freePort();
  writeFileSync(
    path.join(dir, "main.cf"),
    [
      "compatibility_level = 3.6",
      `queue_directory = ${dir}/queue`,
      `data_directory = ${dir}/data`,
      "mail_owner = postfix",
      "setgid_group = postdrop",
      "myhostname = relay.test",
      "mydomain = relay.test",
      "myorigin = relay.test",
      "inet_interfaces = 127.0.0.1",
      "inet_protocols = ipv4",
      "mydestination =",
      "alias_maps =",
      "local_recipient_maps =",
      "mynetworks = 127.0.0.0/8",
      `relay_domains = ${opts.domain}`,
      `transport_maps = inline:{${opts.domain}=smtp:[${opts.to.host}]:${opts.to.port}}`,
      "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
      "smtp_tls_security_level = may",
      "smtp_dns_support_level = disabled",
      "smtputf8_enable = no",
      "biff = no",
      // Deferred mail is tried again within seconds, not minutes.
      "queue_run_delay = 1s",
      "minimal_backoff_time = 1s",
      "maximal_backoff_time = 2s",
      `maillog_file_prefixes = ${dir}`,
      `maillog_file = ${dir}/maillog`,
      "",
    ].join("\n"),
  );
  // Debian's services, without chroot, and smtpd on our port instead of 25.
  const master = readFileSync("/etc/postfix/master.cf", "utf8")
    .split("\n")
    .map((line) => (/^smtp\s+inet\s/.test(line) ? `127.0.0.1:${port} inet n - n - - smtpd` : line.replace(/^(\S+\s+\S+\s+\S+\s+\S+\s+)y(\s)/, "$1n$2")))
    .join("\n");
  writeFileSync(path.join(dir, "master.cf"), master);
  mkdirSync(path.join(dir, "queue"), { mode: 0o755 }); // postfix start makes what is inside
  const log = () => (existsSync(path.join(dir, "maillog")) ? readFileSync(path.join(dir, "maillog"), "utf8") : "");
  const run = (...args: string[]) => {
    const result = spawnSync(postfix, ["-c", dir, ...args], { encoding: "utf8" });
    // Postfix's commands write to syslog, and to the maillog once postlogd runs.
    if (result.status !== 0) throw new Error(`postfix ${args.join(" ")} failed: ${result.stderr}${result.stdout}${log()}`);
  };
  run("start");
  // The master starts its smtpd listener at once; wait until the port answers.
  for (let i = 0; i < 100; i++) {
    const probe = spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
    if (probe.status === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: "127.0.0.1",
    port,
    log,
    flush: () => run("flush"),
    stop: () => {
      spawnSync(postfix, ["-c", dir, "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
