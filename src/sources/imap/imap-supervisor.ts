// One supervisor per IMAP source: a long-lived imapflow connection in IDLE on the source's folder.
// Every connect (the first and each reconnect) starts with a catch-up sync from the cursor; then
// each EXISTS, "Process Now" and the 5-minute safety net runs another. A lost connection is
// retried with backoff; status and source.failed / source.recovered follow the outcome.
//
// Scheduled sources collect in real time like continuous ones (the pipeline holds their mail for
// the schedule's window); a manual source holds no connection: Process Now connects, syncs once
// and logs out.
import { ImapFlow, type Logger as ImapLogger } from "imapflow";
import type { Context } from "../../context.ts";
import type { Logger } from "../../log.ts";
import { clearSyncRequest } from "./imap-cursor-store.ts";
import { describeImapError } from "./describe-imap-error.ts";
import { imapClientOptions } from "./imap-client-options.ts";
import type { ImapSource } from "./imap-source.ts";
import { ensureMoveTarget } from "./post-process.ts";
import { attemptAfterFailure, RECONNECT_BACKOFF, reconnectDelayMs, type BackoffPolicy } from "./reconnect-backoff.ts";
import { setSourceStatus } from "../source-status.ts";
import { CONNECTED, healthAfterFailure, healthChanged, healthFromRow, isNewFailureState, type FailureState, type Health } from "./health-transition.ts";
import { emptyExistsRetryDelayMs, FOLLOW_UP, followUpDelayMs } from "./sync-plan.ts";
import { syncMailbox } from "./sync-mailbox.ts";
import { createWakeableSleep } from "../../scheduler/wakeable-sleep.ts";

/** The guide's "continuous" interval: a sync even when IDLE said nothing. */
export const SAFETY_NET_MS = 5 * 60_000;

export type SupervisorOptions = {
  random?: () => number;
  backoff?: BackoffPolicy;
  safetyNetMs?: number;
};

export type ImapSupervisor = {
  readonly sourceId: string;
  /** "Process Now": sync at once; the request is cleared in mail_sources once served. */
  processNow(requestedAt: Date): void;
  stop(): Promise<void>;
};

type SyncReason = "connect" | "exists" | "retry" | "follow_up" | "safety_net" | "process_now";
type SessionEnd = { ok: true } | { ok: false; error: unknown; connectedForMs: number | null };

export function startImapSupervisor(ctx: Context, source: ImapSource, opts: SupervisorOptions = {}): ImapSupervisor {
  const random = opts.random ?? Math.random;
  const policy = opts.backoff ?? RECONNECT_BACKOFF;
  const safetyNetMs = opts.safetyNetMs ?? SAFETY_NET_MS;
  let health: Health | null = healthFromRow(source.status, source.lastError);
  const live = source.schedule.mode !== "manual";
  const log = ctx.log.child({ component: "imap", sourceId: source.id });
  const target = { host: source.config.host, port: source.config.port, user: source.config.user, folder: source.config.folder };
  const wakeup = createWakeableSleep();
  const pending = new Set<SyncReason>();
  const retryTimers = new Set<NodeJS.Timeout>();
  let processNowAt: Date | null = null;
  let running = true;
  let client: ImapFlow | null = null;

  const trigger = (reason: SyncReason) => {
    pending.add(reason);
    wakeup.wake();
  };

  async function run(): Promise<void> {
    let attempt = 0;
    /** The failure last logged at warn; null once connected again. */
    let reported: FailureState | null = null;
    while (running) {
      if (!live && processNowAt === null) {
        await wakeup.sleep(Infinity);
        continue;
      }
      const end = await session();
      if (!running) break;
      if (end.ok) {
        attempt = 0;
        continue;
      }
      if (end.connectedForMs !== null) reported = null;
      const failure = describeImapError(end.error, target);
      const next = healthAfterFailure(failure, end.connectedForMs !== null);
      attempt = attemptAfterFailure(attempt, end.connectedForMs, policy);
      const retryInMs = reconnectDelayMs(attempt, random, policy);
      // The stack is for whoever debugs; the operator gets one line in mailgate's words.
      log.debug({ code: failure.code, attempt, err: end.error }, "IMAP attempt failed");
      const state = { status: next.status, message: failure.message };
      if (isNewFailureState(reported, state)) log.warn({ code: failure.code, status: next.status, retryInMs }, failure.message);
      else log.info({ code: failure.code, attempt, retryInMs }, `IMAP still failing (${failure.code}); next attempt in ${Math.ceil(retryInMs / 1000)} s`);
      reported = state;
      await writeHealth(next);
      // Process Now and stop() cut the wait short.
      await wakeup.sleep(retryInMs);
    }
  }

  async function session(): Promise<SessionEnd> {
    const c = new ImapFlow(imapClientOptions({ config: source.config, password: source.password, logger: imapLogger(ctx.log, source.id) }));
    client = c;
    let connectedAt: number | null = null;
    c.on("error", (err: unknown) => log.debug({ err }, "IMAP connection error"));
    c.on("exists", () => trigger("exists"));
    c.on("close", () => wakeup.wake());
    try {
      await c.connect();
      await c.mailboxOpen(source.config.folder);
      await ensureMoveTarget(c, source.config.postProcess);
      connectedAt = Date.now();
      await writeHealth(CONNECTED);
      log.info({ folder: source.config.folder }, "IMAP connected; catching up from the cursor");
      pending.add("connect");
      await serve(c);
      if (!running) return { ok: true };
      if (!live && c.usable) {
        await c.logout();
        return { ok: true };
      }
      return { ok: false, error: closedError(c), connectedForMs: Date.now() - connectedAt };
    } catch (error) {
      return { ok: false, error, connectedForMs: connectedAt === null ? null : Date.now() - connectedAt };
    } finally {
      for (const timer of retryTimers) clearTimeout(timer);
      retryTimers.clear();
      client = null;
      c.close();
    }
  }

  /** Runs syncs while the connection lasts (live) or until the work asked for is done (manual). */
  async function serve(c: ImapFlow): Promise<void> {
    let emptyRetries = 0;
    let mailFoundAt: number | null = null;
    let pacedFrom: number | null = null;
    let followUp: NodeJS.Timeout | null = null;
    let nextSafetyNet = Date.now() + safetyNetMs;
    const later = (reason: SyncReason, delayMs: number) => {
      const timer = setTimeout(() => {
        retryTimers.delete(timer);
        trigger(reason);
      }, delayMs);
      retryTimers.add(timer);
      return timer;
    };
    while (running && c.usable) {
      if (pending.size === 0 && processNowAt === null) {
        if (!live) return;
        await wakeup.sleep(nextSafetyNet - Date.now());
        if (running && c.usable && Date.now() >= nextSafetyNet) pending.add("safety_net");
        continue;
      }
      // Paced while mail keeps coming (FOLLOW_UP): what arrived since the last sync began, at once.
      const paced = pacedFrom === null ? 0 : pacedFrom + FOLLOW_UP.everyMs - Date.now();
      if (paced > 0) {
        await wakeup.sleep(paced);
        continue;
      }
      const reasons = [...pending];
      pending.clear();
      const requestedAt = processNowAt;
      // Some servers (Dovecot among them) say nothing to an IDLE client when its folder is
      // deleted and recreated: the periodic and requested syncs SELECT again to see the
      // folder's current UIDVALIDITY.
      if (reasons.includes("safety_net") || reasons.includes("process_now")) await c.mailboxOpen(source.config.folder);
      const startedAt = Date.now();
      const result = await syncMailbox(ctx, source, c);
      nextSafetyNet = Date.now() + safetyNetMs;
      if (requestedAt !== null) {
        await clearSyncRequest(ctx.db, source.id, requestedAt);
        if (processNowAt === requestedAt) processNowAt = null;
      }
      if (result.created > 0 || result.reason !== "incremental") {
        log.debug({ reasons, ...result }, "IMAP sync done");
      }
      pacedFrom = result.listed > 0 ? startedAt : null;
      if (result.listed > 0) {
        emptyRetries = 0;
        mailFoundAt = Date.now();
      } else if (reasons.includes("exists") || reasons.includes("retry")) {
        const delay = emptyExistsRetryDelayMs(emptyRetries++);
        if (delay !== null) later("retry", delay);
      }
      const again = followUpDelayMs(mailFoundAt === null ? null : Date.now() - mailFoundAt);
      if (followUp) {
        clearTimeout(followUp);
        retryTimers.delete(followUp);
        followUp = null;
      }
      if (again !== null) followUp = later("follow_up", Math.max(0, (pacedFrom ?? Date.now()) + again - Date.now()));
      else mailFoundAt = null;
    }
  }

  /** Writes a status only when it changed: one error_log line and one event per transition. */
  async function writeHealth(next: Health): Promise<void> {
    if (next.status === "other" || !healthChanged(health, next)) return;
    try {
      await setSourceStatus(ctx, source.id, next);
      health = next;
    } catch (err) {
      if (!ctx.databaseOutage.report(err)) log.error({ err }, "writing the source status failed");
    }
  }

  const loop = run().catch((err: unknown) => log.error({ err }, "IMAP supervisor stopped unexpectedly"));

  return {
    sourceId: source.id,
    processNow(requestedAt) {
      if (processNowAt !== null && processNowAt.getTime() === requestedAt.getTime()) return;
      processNowAt = requestedAt;
      trigger("process_now");
    },
    async stop() {
      running = false;
      wakeup.wake();
      client?.close();
      await loop;
    },
  };
}

function closedError(c: ImapFlow): Error {
  const reason = c.byeReason ? `the server said "${c.byeReason}"` : "the server closed the connection";
  return Object.assign(new Error(reason), { code: "EConnectionClosed" });
}

/**
 * The supervisor reports every failed session itself, once and in mailgate's words, so imapflow's
 * own warnings and errors (the same failure again, with its stack) are detail for debug level;
 * its line per IMAP command is dropped.
 */
function imapLogger(log: Logger, sourceId: string): ImapLogger {
  const child = log.child({ component: "imapflow", sourceId });
  const detail = (obj: unknown) => child.debug(obj as object);
  const drop = () => undefined;
  return { trace: drop, debug: drop, info: drop, warn: detail, error: detail, fatal: detail };
}
