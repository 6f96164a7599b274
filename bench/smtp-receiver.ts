// The SMTP server for bench:outbound (smtp-server, as in the tests), run as its own process so it
// does not share mailgate's event loop. It notes when each mail's DATA ended and tells the bench
// each mail's Message-ID with that time.
import { startFakeSmtp } from "../tests/fakes/smtp/smtp-server.ts";

const receiver = await startFakeSmtp({ plain: true });
process.send?.({ port: receiver.port });

const messageIdOf = (raw: Buffer) => /^Message-ID:\s*<([^>]+)>/im.exec(raw.subarray(0, 8192).toString("latin1"))?.[1]?.toLowerCase() ?? null;

process.on("message", (msg: { cmd: string }) => {
  if (msg.cmd === "collect") {
    const cpu = process.cpuUsage();
    process.send?.({
      accepted: receiver.received.map((m) => ({ messageId: messageIdOf(m.raw), at: m.at })),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    });
  }
  if (msg.cmd === "reset") {
    receiver.received.length = 0;
    process.send?.({ reset: true });
  }
  if (msg.cmd === "stop") void receiver.close().then(() => process.exit(0));
});
