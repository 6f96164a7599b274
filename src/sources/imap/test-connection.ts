// "Test Connection" for an IMAP source: connect, log in, open the folder, report the server's
// capabilities and the message count, or the first thing that failed, as a value. 15 s at most.
import { ImapFlow } from "imapflow";
import type { Context } from "../../context.ts";
import { describeImapError } from "./describe-imap-error.ts";
import { imapClientOptions } from "./imap-client-options.ts";
import { imapConfigOf, type SourceRow } from "./imap-source.ts";
import type { ImapSecrets } from "../source-config.ts";

export const TEST_TIMEOUT_MS = 15_000;

export type ImapTestResult =
  | { ok: true; details: { capabilities: string[]; messageCount: number; folder: string } }
  | { ok: false; error: { code: string; message: string } };

export async function testImapConnection(
  ctx: Pick<Context, "secrets">,
  source: Pick<SourceRow, "config" | "secrets">,
  opts: { timeoutMs?: number } = {},
): Promise<ImapTestResult> {
  const config = imapConfigOf(source);
  const timeoutMs = opts.timeoutMs ?? TEST_TIMEOUT_MS;
  const target = { host: config.host, port: config.port, user: config.user, folder: config.folder };
  if (!source.secrets) return { ok: false, error: { code: "config", message: "No password is stored for this source; set one and test again." } };
  const { password } = ctx.secrets.openJson<ImapSecrets>(source.secrets);

  const client = new ImapFlow(
    imapClientOptions({ config, password, logger: false, timeouts: { connectionMs: timeoutMs, greetingMs: timeoutMs, socketMs: timeoutMs } }),
  );
  client.on("error", () => undefined); // the awaited command reports it
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: "TIMEOUT" }));
      client.close();
    }, timeoutMs);
  });
  try {
    const details = await Promise.race([
      (async () => {
        await client.connect();
        const mailbox = await client.mailboxOpen(config.folder, { readOnly: true });
        return { capabilities: [...client.capabilities.keys()].sort(), messageCount: mailbox.exists, folder: mailbox.path };
      })(),
      deadline,
    ]);
    await client.logout().catch(() => undefined);
    return { ok: true, details };
  } catch (err) {
    const failure = describeImapError(err, target);
    return { ok: false, error: { code: failure.code, message: failure.message } };
  } finally {
    clearTimeout(timer);
    client.close();
  }
}
