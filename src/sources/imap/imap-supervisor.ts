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
import { describeImapError, type ImapTarget } from "./describe-imap-error.ts";
import { imapClientOptions } from "./imap-client-options.ts";
import type { ImapSource } from "./imap-source.ts";
import { ensureMoveTarget } from "./post-process.ts";
import { attemptAfterFailure, RECONNECT_BACKOFF, reconnectDelayMs, type BackoffPolicy } from "./reconnect-backoff.ts";
import { setSourceStatus } from "../source-status.ts";
import { CONNECTED, healthAfterFailure, healthChanged, healthFromRow, isNewFailureState, type FailureState, type Health } from "./health-transition.ts";
import { emptyExistsRetryDelayMs, FOLLOW_UP, followUpDelayMs } from "./sync-plan.ts";
import { syncMailbox } from "./sync-mailbox.ts";
import { createConnectGate, type ConnectGate } from "./connect-gate.ts";
import { createWakeableSleep, type WakeableSleep } from "../../scheduler/wakeable-sleep.ts";

/** The guide's "continuous" interval: a sync even when IDLE said nothing. */
export const SAFETY_NET_MS = 5 * 60_000;

export type SupervisorOptions = {
  random?: () => number;
  backoff?: BackoffPolicy;
  safetyNetMs?: number;
  /** The instance's pace for opening connections; a supervisor started alone gets one of its own. */
  gate?: ConnectGate;
};

export type ImapSupervisor = {
  readonly sourceId: string;
  /** "Process Now": sync at once; the request is cleared in mail_sources once served. */
  processNow(requestedAt: Date): void;
  stop(): Promise<void>;
};

type SyncReason = "connect" | "exists" | "retry" | "follow_up" | "safety_net" | "process_now";
type SessionEnd = { ok: true } | { ok: false; error: unknown; connectedForMs: number | null };

/** What one supervisor's steps share; the fields not marked readonly change as it runs. */
type SupervisorState = {
  readonly ctx: Context;
  readonly source: ImapSource;
  readonly log: Logger;
  readonly target: ImapTarget;
  readonly random: () => number;
  readonly policy: BackoffPolicy;
  readonly safetyNetMs: number;
  /** Continuous and scheduled sources hold a connection; a manual one connects for Process Now only. */
  readonly live: boolean;
  readonly wakeup: WakeableSleep;
  readonly pending: Set<SyncReason>;
  readonly retryTimers: Set<NodeJS.Timeout>;
  readonly gate: ConnectGate;
  /** Aborted by stop(): cuts short a wait for the gate. */
  readonly stopping: AbortController;
  processNowAt: Date | null;
  running: boolean;
  client: ImapFlow | null;
  health: Health | null;
};

export function startImapSupervisor(ctx: Context, source: ImapSource, opts: SupervisorOptions = {}): ImapSupervisor {
  const random = opts.random ?? Math.random;
  const policy = opts.backoff ?? RECONNECT_BACKOFF;
  const safetyNetMs = opts.safetyNetMs ?? SAFETY_NET_MS;
  const health = healthFromRow(source.status, source.lastError);
  const live = source.schedule.mode !== "manual";
  const log = ctx.log.child({ component: "imap", sourceId: source.id });
  const target = { host: source.config.host, port: source.config.port, user: source.config.user, folder: source.config.folder };
  const s: SupervisorState = {
    ctx,
    source,
    log,
    target,
    random,
    policy,
    safetyNetMs,
    live,
    wakeup: createWakeableSleep(),
    pending: new Set<SyncReason>(),
    retryTimers: new Set<NodeJS.Timeout>(),
    gate: opts.gate ?? createConnectGate({ concurrency: 1, perSecond: 1000 }),
    stopping: new AbortController(),
    processNowAt: null,
    running: true,
    client: null,
    health,
  };

  const loop = run(s).catch((err: unknown) => log.error({ err }, "IMAP supervisor stopped unexpectedly"));

  return {
    sourceId: source.id,
    processNow(requestedAt) {
      if (s.processNowAt !== null && s.processNowAt.getTime() === requestedAt.getTime()) return;
      s.processNowAt = requestedAt;
      trigger(s, "process_now");
    },
    async stop() {
      s.running = false;
      s.stopping.abort();
      s.wakeup.wake();
      s.client?.close();
      await loop;
    },
  };
}

function trigger(s: SupervisorState, reason: SyncReason): void {
  s.pending.add(reason);
  s.wakeup.wake();
}

/** Connects, serves and reconnects with backoff until stopped. */
async function run(s: SupervisorState): Promise<void> {
  let attempt = 0;
  /** The failure last logged at warn; null once connected again. */
  let reported: FailureState | null = null;
  while (s.running) {
    if (!s.live && s.processNowAt === null) {
      await s.wakeup.sleep(Infinity);
      continue;
    }
    const end = await session(s);
    if (!s.running) break;
    if (end.ok) {
      attempt = 0;
      continue;
    }
    if (end.connectedForMs !== null) reported = null;
    const failure = describeImapError(end.error, s.target);
    const next = healthAfterFailure(failure, end.connectedForMs !== null);
    attempt = attemptAfterFailure(attempt, end.connectedForMs, s.policy);
    const retryInMs = reconnectDelayMs(attempt, s.random, s.policy);
    // The stack is for whoever debugs; the operator gets one line in mailgate's words.
    s.log.debug({ code: failure.code, attempt, err: end.error }, "IMAP attempt failed");
    const state = { status: next.status, message: failure.message };
    if (isNewFailureState(reported, state)) s.log.warn({ code: failure.code, status: next.status, retryInMs }, failure.message);
    else s.log.info({ code: failure.code, attempt, retryInMs }, `IMAP still failing (${failure.code}); next attempt in ${Math.ceil(retryInMs / 1000)} s`);
    reported = state;
    await writeHealth(s, next);
    // Process Now and stop() cut the wait short.
    await s.wakeup.sleep(retryInMs);
  }
}

/** One connection, from connect to its end: how it ended and how long it was up. */
async function session(s: SupervisorState): Promise<SessionEnd> {
  const { ctx, source, log } = s;
  const c = new ImapFlow(imapClientOptions({ config: source.config, password: source.password, logger: imapLogger(ctx.log, source.id) }));
  s.client = c;
  let connectedAt: number | null = null;
  c.on("error", (err: unknown) => log.debug({ err }, "IMAP connection error"));
  c.on("exists", () => trigger(s, "exists"));
  c.on("close", () => s.wakeup.wake());
  try {
    const leave = await s.gate.enter(s.stopping.signal);
    try {
      await c.connect();
      await c.mailboxOpen(source.config.folder);
      await ensureMoveTarget(c, source.config.postProcess);
    } finally {
      leave();
    }
    connectedAt = Date.now();
    await writeHealth(s, CONNECTED);
    log.info({ folder: source.config.folder }, "IMAP connected; catching up from the cursor");
    s.pending.add("connect");
    await serve(s, c);
    if (!s.running) return { ok: true };
    if (!s.live && c.usable) {
      await c.logout();
      return { ok: true };
    }
    return { ok: false, error: closedError(c), connectedForMs: Date.now() - connectedAt };
  } catch (error) {
    return { ok: false, error, connectedForMs: connectedAt === null ? null : Date.now() - connectedAt };
  } finally {
    for (const timer of s.retryTimers) clearTimeout(timer);
    s.retryTimers.clear();
    s.client = null;
    c.close();
  }
}

/** Runs syncs while the connection lasts (live) or until the work asked for is done (manual). */
async function serve(s: SupervisorState, c: ImapFlow): Promise<void> {
  const { ctx, source, log, pending, retryTimers, wakeup } = s;
  let emptyRetries = 0;
  let mailFoundAt: number | null = null;
  let pacedFrom: number | null = null;
  let followUp: NodeJS.Timeout | null = null;
  let nextSafetyNet = Date.now() + s.safetyNetMs;
  while (s.running && c.usable) {
    if (pending.size === 0 && s.processNowAt === null) {
      if (!s.live) return;
      await wakeup.sleep(nextSafetyNet - Date.now());
      if (s.running && c.usable && Date.now() >= nextSafetyNet) pending.add("safety_net");
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
    const requestedAt = s.processNowAt;
    // Some servers (Dovecot among them) say nothing to an IDLE client when its folder is
    // deleted and recreated: the periodic and requested syncs SELECT again to see the
    // folder's current UIDVALIDITY.
    if (reasons.includes("safety_net") || reasons.includes("process_now")) await c.mailboxOpen(source.config.folder);
    const startedAt = Date.now();
    const result = await syncMailbox(ctx, source, c);
    nextSafetyNet = Date.now() + s.safetyNetMs;
    if (requestedAt !== null) {
      await clearSyncRequest(ctx.db, source.id, requestedAt);
      if (s.processNowAt === requestedAt) s.processNowAt = null;
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
      if (delay !== null) syncLater(s, "retry", delay);
    }
    const again = followUpDelayMs(mailFoundAt === null ? null : Date.now() - mailFoundAt);
    if (followUp) {
      clearTimeout(followUp);
      retryTimers.delete(followUp);
      followUp = null;
    }
    if (again !== null) followUp = syncLater(s, "follow_up", Math.max(0, (pacedFrom ?? Date.now()) + again - Date.now()));
    else mailFoundAt = null;
  }
}

/** Triggers a sync after `delayMs`; the timer is cleared when the session ends. */
function syncLater(s: SupervisorState, reason: SyncReason, delayMs: number): NodeJS.Timeout {
  const timer = setTimeout(() => {
    s.retryTimers.delete(timer);
    trigger(s, reason);
  }, delayMs);
  s.retryTimers.add(timer);
  return timer;
}

/** Writes a status only when it changed: one error_log line and one event per transition. */
async function writeHealth(s: SupervisorState, next: Health): Promise<void> {
  if (next.status === "other" || !healthChanged(s.health, next)) return;
  try {
    await setSourceStatus(s.ctx, s.source.id, next);
    s.health = next;
  } catch (err) {
    if (!s.ctx.databaseOutage.report(err)) s.log.error({ err }, "writing the source status failed");
  }
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
