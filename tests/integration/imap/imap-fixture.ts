// What the IMAP integration tests share: a source row pointing at the test Dovecot, a company so
// the pipeline makes tickets, and polling for the outcome.
import { asc, eq } from "drizzle-orm";
import type { Context } from "../../../src/context.ts";
import { companies, companyDomains, inboundMessages, mailSources } from "../../../src/db/schema.ts";
import type { ImapConfig, Schedule } from "../../../src/sources/source-config.ts";
import type { DovecotServer, TestAccount } from "../../fakes/dovecot/dovecot-server.ts";

export type MailboxUser = TestAccount;

export const newMailboxUser = (server: DovecotServer): MailboxUser => server.takeAccount();

export async function insertImapSource(
  ctx: Context,
  server: DovecotServer,
  account: MailboxUser,
  opts: { folder?: string; postProcess?: ImapConfig["postProcess"]; password?: string; schedule?: Schedule; createdAt?: Date } = {},
): Promise<string> {
  const config: ImapConfig = {
    host: server.host,
    port: server.port,
    security: "none",
    user: account.user,
    folder: opts.folder ?? "INBOX",
    postProcess: opts.postProcess ?? { action: "none" },
  };
  const [row] = await ctx.db
    .insert(mailSources)
    .values({
      kind: "imap",
      name: "Support inbox",
      address: account.user,
      role: "system",
      config,
      secrets: ctx.secrets.sealJson({ password: opts.password ?? account.password }),
      schedule: opts.schedule ?? { mode: "continuous" },
      status: "connecting",
      ...(opts.createdAt ? { createdAt: opts.createdAt } : {}),
    })
    .returning({ id: mailSources.id });
  return row!.id;
}

/** Senders @acme.com route to this company, so the pipeline opens tickets for them. */
export async function insertAcme(ctx: Context): Promise<string> {
  const [company] = await ctx.db.insert(companies).values({ name: "Acme Corporation" }).returning({ id: companies.id });
  await ctx.db.insert(companyDomains).values({ domain: "acme.com", companyId: company!.id });
  return company!.id;
}

export async function inboundOf(ctx: Context, sourceId: string) {
  return ctx.db
    .select({
      id: inboundMessages.id,
      providerMessageId: inboundMessages.providerMessageId,
      raw: inboundMessages.raw,
      rawSha256: inboundMessages.rawSha256,
      status: inboundMessages.status,
      ticketId: inboundMessages.ticketId,
    })
    .from(inboundMessages)
    .where(eq(inboundMessages.sourceId, sourceId))
    .orderBy(asc(inboundMessages.createdAt));
}

export async function sourceRow(ctx: Context, sourceId: string) {
  const [row] = await ctx.db.select().from(mailSources).where(eq(mailSources.id, sourceId));
  if (!row) throw new Error(`source ${sourceId} is gone`);
  return row;
}

/** Polls until `check` returns a value that is not undefined/false, or fails with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

type PipelineStarter = (ctx: Context, opts?: { concurrency?: number; pollMs?: number }) => { stop(): Promise<void> };

/**
 * The pipeline worker, when it loads: tests then also check tickets. It is written alongside the
 * IMAP source; until it is complete, the tests check inbound messages only (and say so).
 */
export async function loadPipelineWorkers(): Promise<PipelineStarter | null> {
  try {
    const worker = (await import("../../../src/pipeline/worker.ts")) as { startPipelineWorkers?: PipelineStarter };
    return worker.startPipelineWorkers ?? null;
  } catch (err) {
    console.warn(`The pipeline worker does not load (${(err as Error).message.split("\n")[0]}); IMAP tests check inbound messages, not tickets.`);
    return null;
  }
}

/** Fast reconnects so tests do not wait for production backoff. */
export const TEST_BACKOFF = { baseMs: 100, capMs: 400, stableAfterMs: 60_000 };

/** The normalised Message-ID of a stored raw message. */
export const messageIdOf = (raw: Buffer | null) => /^Message-ID:\s*(<[^>]+>)/im.exec(raw?.toString("latin1") ?? "")?.[1] ?? null;
