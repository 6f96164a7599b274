// saveToSent: a copy of a message sent through SMTP is appended to the source's Sent folder,
// marked \Seen, as a mail client does, so the mailbox shows what was answered.
//
// It opens a short connection of its own rather than using the supervisor's: that one belongs to
// the `sources` role (perhaps on another instance, under a lease) and sits in IDLE on the inbox
// inside a mailbox lock, so an APPEND there would have to reach across processes, break IDLE and
// wait for a sync. The price is a login per copy, paid only by sources that ask for copies.
import { ImapFlow, type ListResponse } from "imapflow";
import type { ImapConfig } from "../source-config.ts";
import { describeImapError, type ImapFailureCode } from "./describe-imap-error.ts";
import { imapClientOptions } from "./imap-client-options.ts";

export const SENT_COPY_TIMEOUT_MS = 30_000;
/** Where copies go on a server that marks no folder \Sent and has none of the usual names. */
export const FALLBACK_SENT_FOLDER = "Sent";

export type SentCopy = {
  /** The source's IMAP server and login (its own settings, not the SMTP ones). */
  imap: { config: Pick<ImapConfig, "host" | "port" | "security" | "user">; password: string };
  /** The source's smtp.sentFolder; unset: the folder the server marks \Sent, else "Sent". */
  sentFolder?: string;
  raw: Buffer;
  /** The copy's internal date: when the message was sent (default: the server's clock). */
  sentAt?: Date;
  timeoutMs?: number;
};

export type SentCopyOutcome =
  | { ok: true; folder: string; uid: number | undefined }
  | { ok: false; code: ImapFailureCode; error: string };

export type SentFolderChoice = { path: string; create: boolean };

/**
 * The folder a copy goes to: the one configured; else the one the server flags \Sent (RFC 6154),
 * else one imapflow recognises by a usual name ("Sent Items", "Sent Messages"...); else "Sent",
 * created when missing, as mail clients do. A configured folder is never created: a typo there
 * should be told, not become a new folder.
 */
export function pickSentFolder(folders: Pick<ListResponse, "path" | "specialUse" | "specialUseSource">[], configured: string | undefined): SentFolderChoice {
  if (configured !== undefined) return { path: configured, create: false };
  const sent = folders.filter((f) => f.specialUse === "\\Sent");
  const flagged = sent.find((f) => f.specialUseSource !== "name") ?? sent[0];
  if (flagged) return { path: flagged.path, create: false };
  return { path: FALLBACK_SENT_FOLDER, create: !folders.some((f) => f.path === FALLBACK_SENT_FOLDER) };
}

/** Appends the copy; every failure is a value with the server's words, never an exception. */
export async function appendToSent(copy: SentCopy): Promise<SentCopyOutcome> {
  const timeoutMs = copy.timeoutMs ?? SENT_COPY_TIMEOUT_MS;
  const { config, password } = copy.imap;
  const client = new ImapFlow(
    imapClientOptions({ config, password, logger: false, timeouts: { connectionMs: timeoutMs, greetingMs: timeoutMs, socketMs: timeoutMs } }),
  );
  client.on("error", () => undefined); // the awaited command reports it
  let folder = copy.sentFolder ?? FALLBACK_SENT_FOLDER;
  try {
    await client.connect();
    const choice = copy.sentFolder !== undefined ? pickSentFolder([], copy.sentFolder) : pickSentFolder(await client.list(), undefined);
    folder = choice.path;
    if (choice.create) await client.mailboxCreate(folder);
    const appended = await client.append(folder, copy.raw, ["\\Seen"], copy.sentAt);
    await client.logout().catch(() => undefined);
    return { ok: true, folder, uid: appended ? appended.uid : undefined };
  } catch (err) {
    return sentCopyFailure(err, { host: config.host, port: config.port, user: config.user, folder });
  } finally {
    client.close();
  }
}

function sentCopyFailure(err: unknown, target: { host: string; port: number; user: string; folder: string }): SentCopyOutcome {
  // APPEND to a folder that does not exist is answered NO [TRYCREATE] (RFC 3501 §6.3.11).
  if ((err as { serverResponseCode?: unknown }).serverResponseCode === "TRYCREATE") {
    return {
      ok: false,
      code: "missing_folder",
      error: `The Sent folder "${target.folder}" does not exist for user ${target.user} on ${target.host}:${target.port}; correct smtp.sentFolder, or unset it to use the folder the server marks as Sent.`,
    };
  }
  const failure = describeImapError(err, target);
  return { ok: false, code: failure.code, error: `Saving the copy in "${target.folder}" failed: ${failure.message}` };
}
