// Sending to mailgate's SMTP listener the way a mail server would: nodemailer over loopback,
// STARTTLS on the listener's (self-signed) certificate, AUTH when asked, the envelope given apart
// from the raw bytes.
import net from "node:net";
import nodemailer from "nodemailer";

export type SendResult = { ok: true; response: string } | { ok: false; responseCode: number | undefined; command: string | undefined; response: string };

export async function sendRaw(
  port: number,
  mail: { from: string; to: string[]; raw: Buffer | string },
  opts: { auth?: { user: string; pass: string } } = {},
): Promise<SendResult> {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port,
    secure: false,
    tls: { rejectUnauthorized: false },
    ...(opts.auth ? { auth: opts.auth } : {}),
  });
  try {
    const info = await transport.sendMail({ envelope: { from: mail.from, to: mail.to }, raw: mail.raw });
    return { ok: true, response: info.response };
  } catch (err) {
    const e = err as { responseCode?: number; command?: string; response?: string; message: string };
    return { ok: false, responseCode: e.responseCode, command: e.command, response: e.response ?? e.message };
  } finally {
    transport.close();
  }
}

/** A raw SMTP conversation, for what a library would not do: stop in the middle, or ignore refusals. */
export async function openDialog(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  let buffer = "";
  let waiting: (() => void) | null = null;
  socket.on("data", (d) => {
    buffer += d.toString();
    waiting?.();
  });
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  /** The next complete reply (its last line is "NNN text"). */
  const reply = async (): Promise<string> => {
    for (;;) {
      const end = /^\d{3} .*\r\n/m.exec(buffer);
      if (end) {
        const text = buffer.slice(0, end.index + end[0].length);
        buffer = buffer.slice(end.index + end[0].length);
        return text;
      }
      await Promise.race([new Promise<void>((resolve) => (waiting = resolve)), closed.then(() => Promise.reject(new Error(`connection closed; unread: ${buffer}`)))]);
    }
  };
  await reply(); // the greeting
  return {
    say: (line: string) => {
      socket.write(line + "\r\n");
      return reply();
    },
    write: (data: string) => void socket.write(data),
    cut: () => socket.destroy(),
    closed,
  };
}
