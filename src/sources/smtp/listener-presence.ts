// Whether any instance listens for SMTP, and the status of the smtp sources that follows from it.
// An smtp source has no connection of its own: it is connected while some instance's listener
// serves its addresses, and in error (naming SMTP_LISTEN) while none does.
//
// Glossary
//   presence   a lease row `smtp-listener:<instance>` that a running listener renews; live while
//              its expiry is ahead. Every instance sees every other's, as they share the database.
//   keeper     the pass that sets the smtp sources' status from presence: run by a listener (after
//              renewing its own presence) and, on instances with the sources role and no
//              SMTP_LISTEN, on its own, so a listener that goes away is noticed.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { and, eq, ne, sql } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { queryRows } from "../../db/client.ts";
import { mailSources } from "../../db/schema.ts";
import { acquireLease, LEASE_RENEW_MS, LEASE_TTL_MS } from "../../scheduler/leases.ts";
import { startPeriodicPass } from "../../scheduler/periodic-pass.ts";
import type { Runtime } from "../../runtime.ts";
import { setSourceStatus, type SourceError, type StatusChange } from "../source-status.ts";

const PRESENCE_PREFIX = "smtp-listener:";
/** How often an instance without a listener looks whether one is still there. */
export const KEEPER_EVERY_MS = 30_000;

export const NO_LISTENER: SourceError = {
  code: "listener_off",
  message: "No mailgate instance is listening for SMTP: set SMTP_LISTEN (e.g. 0.0.0.0:25) on an instance with the sources role, and point the forwarding at it.",
};

export type SmtpSourceState = { status: string; lastError: string | null };

/** The change a source needs, or null when its status already says the truth. A disabled source is left alone. */
export function smtpStatusChange(listening: boolean, source: SmtpSourceState): StatusChange | null {
  if (source.status === "disabled") return null;
  if (listening) return source.status === "connected" ? null : { status: "connected" };
  if (source.status === "error" && source.lastError === NO_LISTENER.message) return null;
  // Transient: a listener starting (a deploy, a restart) fixes it, so source.failed waits for the delay.
  return { status: "error", error: NO_LISTENER, transient: true };
}

export const newPresenceName = (): string => `${PRESENCE_PREFIX}${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;

/** Renews this listener's presence, and drops the presence of listeners that ran out (dead instances). */
export async function renewPresence(ctx: Context, name: string): Promise<void> {
  const now = ctx.clock.now();
  await acquireLease(ctx.db, name, name, now, LEASE_TTL_MS);
  await ctx.db.execute(sql`delete from leases where name like ${`${PRESENCE_PREFIX}%`} and expires_at < ${now.toISOString()}::timestamptz`);
}

export async function anyListenerPresent(ctx: Context): Promise<boolean> {
  const rows = await queryRows<{ live: number }>(
    ctx.db,
    sql`select count(*)::int as live from leases where name like ${`${PRESENCE_PREFIX}%`} and expires_at > ${ctx.clock.now().toISOString()}::timestamptz`,
  );
  return (rows[0]?.live ?? 0) > 0;
}

/**
 * Sets every smtp source's status (or the one given) from presence. setSourceStatus writes the
 * error log and the events, once per transition; a source already right is not written.
 */
export async function keepSmtpStatuses(ctx: Context, sourceId?: string): Promise<void> {
  const listening = await anyListenerPresent(ctx);
  const sources = await ctx.db
    .select({ id: mailSources.id, status: mailSources.status, lastError: mailSources.lastError })
    .from(mailSources)
    .where(and(eq(mailSources.kind, "smtp"), ne(mailSources.status, "disabled"), sourceId ? eq(mailSources.id, sourceId) : undefined));
  for (const source of sources) {
    const change = smtpStatusChange(listening, source);
    if (change === null) continue;
    if (await setSourceStatus(ctx, source.id, change)) {
      if (change.status === "connected") ctx.log.info({ sourceId: source.id }, "smtp source connected: an SMTP listener serves its addresses");
      else ctx.log.warn({ sourceId: source.id }, "smtp source in error: no instance listens for SMTP (SMTP_LISTEN unset everywhere)");
    }
  }
}

/**
 * A listener's presence: renewed every few seconds, each time followed by the keeper, which also
 * runs when sources change (a new smtp source is connected at once). Left to run out on stop, so an
 * instance restarting in place shows no gap.
 */
export function holdPresence(ctx: Context, name: string): Runtime & { firstPass: Promise<void> } {
  return startPeriodicPass(ctx, {
    name: "SMTP listener presence",
    everyMs: LEASE_RENEW_MS,
    pass: async () => {
      await renewPresence(ctx, name);
      await keepSmtpStatuses(ctx);
    },
    onSourcesWake: { debounceMs: 100, check: async () => true },
  });
}

/** The keeper on an instance with the sources role and no listener of its own. */
export function startSmtpStatusKeeper(ctx: Context, opts: { everyMs?: number } = {}): Runtime & { firstPass: Promise<void> } {
  return startPeriodicPass(ctx, {
    name: "smtp source status",
    everyMs: opts.everyMs ?? KEEPER_EVERY_MS,
    pass: () => keepSmtpStatuses(ctx),
    onSourcesWake: { debounceMs: 100, check: async () => true },
  });
}
