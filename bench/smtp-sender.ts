// bench:smtp's sending server, in a process of its own (mail comes from outside mailgate; run in
// its process the client would take turns of the event loop mailgate needs): nodemailer's pooled
// transport, `connections` connections, one message in flight on each, so a message never waits
// in nodemailer's queue and its time is its own SMTP transaction. Acceptances are reported in
// small batches as they come, so the parent can watch for their tickets. Times are wall-clock
// milliseconds (performance.timeOrigin + now), comparable with the parent's.
import nodemailer from "nodemailer";
import { buildEmail } from "../tests/helpers/build-email.ts";

export type SmtpSenderCommand = { type: "run"; port: number; from: number; count: number; connections: number; to: string } | { type: "stop" };

export type SmtpSenderReport =
  | { type: "accepted"; items: { i: number; sentAt: number; acceptedAt: number }[] }
  | { type: "done"; ms: number; cpuMs: number; refused: number; firstError: string | null };

export const wallClock = () => performance.timeOrigin + performance.now();

/** The i-th mail of a run: a new conversation from one of 50 senders of a mapped domain. */
export const benchSmtpEmail = (i: number, to: string) =>
  buildEmail({ from: `user${i % 50}@acme.example`, to, subject: `bench ${i}`, messageId: `<bench-smtp-${i}@acme.example>`, text: `Ticket body ${i}.\r\n` });

const send = (report: SmtpSenderReport) => process.send!(report);

async function run(cmd: Extract<SmtpSenderCommand, { type: "run" }>): Promise<void> {
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: cmd.connections,
    maxMessages: Infinity,
    host: "127.0.0.1",
    port: cmd.port,
    secure: false,
    tls: { rejectUnauthorized: false },
  });
  const cpuBefore = process.cpuUsage();
  const started = wallClock();
  let next = cmd.from;
  let refused = 0;
  let firstError: string | null = null;
  let pending: { i: number; sentAt: number; acceptedAt: number }[] = [];
  const flush = setInterval(() => {
    if (pending.length > 0) send({ type: "accepted", items: pending });
    pending = [];
  }, 10);
  const worker = async () => {
    while (next < cmd.from + cmd.count) {
      const i = next++;
      const raw = benchSmtpEmail(i, cmd.to);
      const sentAt = wallClock();
      try {
        await transport.sendMail({ envelope: { from: `user${i % 50}@acme.example`, to: [cmd.to] }, raw });
        pending.push({ i, sentAt, acceptedAt: wallClock() });
      } catch (err) {
        refused++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: cmd.connections }, worker));
  clearInterval(flush);
  if (pending.length > 0) send({ type: "accepted", items: pending });
  const cpu = process.cpuUsage(cpuBefore);
  send({ type: "done", ms: wallClock() - started, cpuMs: (cpu.user + cpu.system) / 1000, refused, firstError });
  transport.close();
}

process.on("message", (cmd: SmtpSenderCommand) => {
  if (cmd.type === "stop") process.exit(0);
  run(cmd).catch((err: unknown) => send({ type: "done", ms: 0, cpuMs: 0, refused: cmd.count, firstError: (err as Error).message }));
});
