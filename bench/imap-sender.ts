// bench:imap's mail senders and its floor, in a process of their own: the APPENDing clients and
// the bare IDLE listener that hears EXISTS. Senders are not part of mailgate; run inside its
// process they took turns of the event loop mailgate needs, and the floor's clock ran late
// whenever mailgate was busy. Times are wall-clock milliseconds (performance.timeOrigin + now),
// comparable with the parent's.
import { ImapFlow } from "imapflow";
import { buildEmail } from "../tests/helpers/build-email.ts";

export type SenderCommand =
  | { type: "init"; host: string; port: number; user: string; password: string }
  | { type: "append"; i: number }
  | { type: "burst"; indices: number[]; connections: number }
  | { type: "stop" };

export type SenderReport =
  | { type: "ready" }
  | { type: "appended"; i: number; uid: number; uidValidity: string; at: number }
  | { type: "exists"; fromUid: number; toUid: number; at: number }
  | { type: "burstDone"; ms: number }
  | { type: "error"; message: string };

export const wallClock = () => performance.timeOrigin + performance.now();

const benchEmail = (i: number) => buildEmail({ from: `user${i % 50}@acme.example`, subject: `bench ${i}`, text: `Ticket body ${i}.\r\n` });

let server: { host: string; port: number; user: string; password: string } | null = null;
let appender: ImapFlow | null = null;
let listener: ImapFlow | null = null;

const send = (report: SenderReport) => process.send!(report);

async function connect(idle = false): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: server!.host,
    port: server!.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: server!.user, pass: server!.password },
    logger: false,
    ...(idle ? { autoIdleDelay: 0 } : {}),
  });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

async function appendOne(client: ImapFlow, i: number): Promise<void> {
  const res = await client.append("INBOX", benchEmail(i));
  const at = wallClock();
  if (!res || !res.uid) throw new Error("APPEND did not return a UID (UIDPLUS)");
  send({ type: "appended", i, uid: res.uid, uidValidity: String(res.uidValidity), at });
}

/**
 * The floor: a bare client in IDLE on the same folder. Nothing is ever expunged, so UIDs run 1, 2,
 * 3, … in sequence order and "EXISTS n" means every UID up to n is there.
 */
async function listen(): Promise<ImapFlow> {
  const client = await connect(true);
  let seen = (await client.mailboxOpen("INBOX")).exists;
  client.on("exists", (e: { count: number }) => {
    const at = wallClock();
    if (e.count > seen) send({ type: "exists", fromUid: seen + 1, toUid: e.count, at });
    seen = Math.max(seen, e.count);
  });
  return client;
}

async function handle(cmd: SenderCommand): Promise<void> {
  switch (cmd.type) {
    case "init":
      server = cmd;
      listener = await listen();
      appender = await connect();
      send({ type: "ready" });
      return;
    case "append":
      return appendOne(appender!, cmd.i);
    case "burst": {
      const clients = await Promise.all(Array.from({ length: cmd.connections }, () => connect()));
      const started = performance.now();
      let next = 0;
      await Promise.all(
        clients.map(async (client) => {
          while (next < cmd.indices.length) await appendOne(client, cmd.indices[next++]!);
        }),
      );
      send({ type: "burstDone", ms: performance.now() - started });
      await Promise.all(clients.map((c) => c.logout().catch(() => undefined)));
      return;
    }
    case "stop":
      await appender?.logout().catch(() => undefined);
      await listener?.logout().catch(() => undefined);
      process.exit(0);
  }
}

// Forked by bench/imap.ts (which imports only the types and clocks from here).
if (process.send) {
  process.on("message", (cmd: SenderCommand) => {
    handle(cmd).catch((err: unknown) => send({ type: "error", message: err instanceof Error ? err.message : String(err) }));
  });
}
