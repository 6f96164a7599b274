// Keeps one supervisor running for every enabled IMAP source this instance holds (its shards,
// runtime.ts): scans mail_sources at start, when the shards held change, on wake("sources") (the API
// calls it after create, change, delete and Process Now) and every 30 s. A source whose settings
// changed gets a fresh supervisor; a deleted, disabled or no longer held one is stopped.
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { mailSources } from "../../db/schema.ts";
import { imapSourceOf, type ImapSource, type SourceRow } from "./imap-source.ts";
import { startImapSupervisor, type ImapSupervisor, type SupervisorOptions } from "./imap-supervisor.ts";
import { setSourceStatus } from "../source-status.ts";
import { kindConfigOf } from "../smtp-settings.ts";
import { createConnectGate } from "./connect-gate.ts";

export const RESCAN_MS = 30_000;

/** The one place a supervisor is started; the shard leases (one owner per source across instances) wrap this. */
export type StartSupervisor = (ctx: Context, source: ImapSource, opts: SupervisorOptions) => ImapSupervisor;

export type ImapSourcesOptions = {
  rescanMs?: number;
  supervisor?: SupervisorOptions;
  start?: StartSupervisor;
  /** Whether this instance holds the source (its shard, runtime.ts); every source when not given. */
  owns?: (sourceId: string) => boolean;
};

export type ImapSources = {
  /** Re-reads mail_sources now; resolves once supervisors match it. */
  refresh(): Promise<void>;
  stop(): Promise<void>;
};

type Owned = { fingerprint: string; supervisor: ImapSupervisor };

/**
 * What a supervisor was built from; status and cursor are its own to change. The SMTP settings
 * are left out, as sending does not use this connection (a new SMTP password is sealed with the
 * IMAP one, though, and so still reconnects).
 */
function fingerprintOf(row: SourceRow): string {
  return createHash("sha256")
    .update(JSON.stringify([kindConfigOf((row.config ?? {}) as Record<string, unknown>), row.schedule, row.name, row.address, row.companyId, row.secrets?.toString("hex") ?? null]))
    .digest("hex");
}

export function startImapSources(ctx: Context, opts: ImapSourcesOptions = {}): ImapSources {
  const start = opts.start ?? startImapSupervisor;
  const owns = opts.owns ?? (() => true);
  // One gate for the instance: every supervisor's connect waits its turn in it.
  const gate = opts.supervisor?.gate ?? createConnectGate(ctx.config.imapConnect);
  const supervisorOptions = { ...opts.supervisor, gate };
  const log = ctx.log.child({ component: "imap-sources" });
  const owned = new Map<string, Owned>();
  let stopped = false;
  let current: Promise<void> | null = null;
  let again = false;

  /** Stops the supervisors of sources no longer ours; needs no database, so it works in an outage too. */
  async function letGo(): Promise<void> {
    const leaving = [...owned].filter(([id]) => !owns(id));
    for (const [id] of leaving) owned.delete(id);
    await Promise.all(leaving.map(([, o]) => o.supervisor.stop()));
  }

  async function scan(): Promise<void> {
    await letGo();
    const rows = await ctx.db.select().from(mailSources).where(eq(mailSources.kind, "imap"));
    const wanted = new Map(rows.filter((r) => r.status !== "disabled" && owns(r.id)).map((r) => [r.id, r]));
    const leaving = [...owned].filter(([id, o]) => wanted.get(id) === undefined || fingerprintOf(wanted.get(id)!) !== o.fingerprint);
    for (const [id] of leaving) owned.delete(id);
    await Promise.all(leaving.map(([, o]) => o.supervisor.stop()));
    if (stopped) return;

    for (const [id, row] of wanted) {
      if (!owned.has(id)) {
        const source = await openSource(row);
        if (!source) continue;
        owned.set(id, { fingerprint: fingerprintOf(row), supervisor: start(ctx, source, supervisorOptions) });
        log.info({ sourceId: id }, "IMAP source started");
      }
      if (row.syncRequestedAt) owned.get(id)?.supervisor.processNow(row.syncRequestedAt);
    }
  }

  async function openSource(row: SourceRow): Promise<ImapSource | null> {
    try {
      return imapSourceOf(ctx, row);
    } catch (err) {
      const message = (err as Error).message;
      log.error({ err, sourceId: row.id }, "IMAP source cannot start");
      if (row.status !== "error" || row.lastError !== message) {
        await setSourceStatus(ctx, row.id, { status: "error", error: { code: "config", message } }).catch(() => undefined);
      }
      return null;
    }
  }

  function refresh(): Promise<void> {
    if (current) {
      again = true;
      return current;
    }
    current = (async () => {
      do {
        again = false;
        try {
          await scan();
        } catch (err) {
          await letGo();
          if (!ctx.databaseOutage.report(err)) log.error({ err }, "scanning IMAP sources failed; retrying on the next wake or rescan");
        }
      } while (again && !stopped);
    })().finally(() => {
      current = null;
    });
    return current;
  }

  const unsubscribe = ctx.database.onWake("sources", () => void refresh());
  const timer = setInterval(() => void refresh(), opts.rescanMs ?? RESCAN_MS);
  timer.unref();
  void refresh();

  return {
    refresh,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      await current;
      const all = [...owned.values()];
      owned.clear();
      await Promise.all(all.map((o) => o.supervisor.stop()));
    },
  };
}
