// bench:mailboxes' mail from outside mailgate, in a process of its own (as bench/imap-sender.ts is
// for bench:imap): APPENDing clients and the floor, bare imapflow clients in IDLE that hear
// EXISTS on the mailboxes the latency mails go to. Every connection here comes from 127.0.0.2, so
// `doveadm who` tells them apart from mailgate's (127.0.0.1) when the bench counts sessions.
// Times are wall-clock milliseconds, comparable with the parent's.
import net from "node:net";
import { ImapFlow, type ImapTransport } from "imapflow";
import type { TestAccount } from "../tests/fakes/dovecot/dovecot-server.ts";
import { buildEmail } from "../tests/helpers/build-email.ts";

export const SENDER_ADDRESS = "127.0.0.2";

// Not imported from imap-sender.ts: importing it here would install its message handler too.
export const wallClock = () => performance.timeOrigin + performance.now();

export type MailboxesCommand =
  | { type: "init"; host: string; port: number }
  /** Opens a floor listener and an appender on each of these mailboxes. */
  | { type: "listen"; accounts: TestAccount[] }
  /** Appends through the mailbox's appender if it has one, otherwise through a connection of its own. */
  | { type: "append"; i: number; account: TestAccount; messageId: string }
  /** Logs the listeners and appenders out (before Dovecot is killed). */
  | { type: "unlisten" }
  | { type: "stop" };

export type MailboxesReport =
  /** The init, listen or unlisten command has finished. */
  | { type: "done"; command: "init" | "listen" | "unlisten" }
  | { type: "appended"; i: number; user: string; uid: number; at: number }
  | { type: "exists"; user: string; fromUid: number; toUid: number; at: number }
  | { type: "error"; message: string };

/** The sender's mail: from a domain the bench's company owns, so each becomes a new ticket. */
export const benchMail = (i: number, messageId: string) =>
  buildEmail({ from: `user${i % 50}@acme.example`, subject: `mailboxes bench ${i}`, messageId, text: `Ticket body ${i}.\r\n` });

/** Plain TCP from the sender's own loopback address (imapflow has no local-address option). */
const fromSenderAddress: ImapTransport = {
  connect: (o, onConnect) => net.connect({ host: o.host, port: o.port, localAddress: SENDER_ADDRESS }, onConnect),
};

let server: { host: string; port: number } | null = null;
const listeners = new Map<string, ImapFlow>();
const appenders = new Map<string, ImapFlow>();

const send = (report: MailboxesReport) => process.send!(report);

async function connect(account: TestAccount, idle = false): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: server!.host,
    port: server!.port,
    secure: false,
    doSTARTTLS: false,
    transport: fromSenderAddress,
    auth: { user: account.user, pass: account.password },
    logger: false,
    ...(idle ? { autoIdleDelay: 0 } : {}),
  });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** As in imap-sender.ts: nothing is expunged, so "EXISTS n" means every UID up to n is there. */
async function listen(account: TestAccount): Promise<void> {
  const client = await connect(account, true);
  let seen = (await client.mailboxOpen("INBOX")).exists;
  client.on("exists", (e: { count: number }) => {
    const at = wallClock();
    if (e.count > seen) send({ type: "exists", user: account.user, fromUid: seen + 1, toUid: e.count, at });
    seen = Math.max(seen, e.count);
  });
  listeners.set(account.user, client);
  appenders.set(account.user, await connect(account));
}

/** The mailbox's appender, opened again if imapflow closed it (it closes a connection after 5 min without traffic). */
async function appenderOf(account: TestAccount): Promise<ImapFlow | undefined> {
  const client = appenders.get(account.user);
  if (client && !client.usable) appenders.set(account.user, await connect(account));
  return appenders.get(account.user);
}

async function append(i: number, account: TestAccount, messageId: string): Promise<void> {
  const own = await appenderOf(account);
  const client = own ?? (await connect(account));
  try {
    const res = await client.append("INBOX", benchMail(i, messageId));
    const at = wallClock();
    if (!res || !res.uid) throw new Error("APPEND did not return a UID (UIDPLUS)");
    send({ type: "appended", i, user: account.user, uid: res.uid, at });
  } finally {
    if (!own) await client.logout().catch(() => undefined);
  }
}

async function logoutAll(): Promise<void> {
  const clients = [...listeners.values(), ...appenders.values()];
  listeners.clear();
  appenders.clear();
  await Promise.all(clients.map((c) => c.logout().catch(() => undefined)));
}

async function handle(cmd: MailboxesCommand): Promise<void> {
  switch (cmd.type) {
    case "init":
      server = cmd;
      return void send({ type: "done", command: "init" });
    case "listen":
      await Promise.all(cmd.accounts.map(listen));
      return void send({ type: "done", command: "listen" });
    case "append":
      return append(cmd.i, cmd.account, cmd.messageId);
    case "unlisten":
      await logoutAll();
      return void send({ type: "done", command: "unlisten" });
    case "stop":
      await logoutAll();
      process.exit(0);
  }
}

// Forked by bench/mailboxes.ts (which imports only the types and the mail from here).
if (process.send) {
  process.on("message", (cmd: MailboxesCommand) => {
    handle(cmd).catch((err: unknown) => {
      const user = cmd.type === "append" ? ` to ${cmd.account.user}` : "";
      send({ type: "error", message: `${cmd.type}${user}: ${err instanceof Error ? err.message : String(err)}` });
    });
  });
}
