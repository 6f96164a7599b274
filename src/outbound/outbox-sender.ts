// The outbox's sender: claims due outgoing mail into free sending slots, a claim at a time, and
// takes each message through three phases, as a webhook attempt is made:
//
//   prepare  the claim's sources and bytes; acknowledgements are built and stored here, once
//            (prepare-outbound.ts)
//   send     through the message's source (send-through-source.ts), with nothing else in between
//   record   the attempt and the new state, with message.sent / message.failed, written with the
//            outcomes that came in within a few milliseconds (outbox-recorder.ts)
//
// A crash between the provider's acceptance and the record is the one window in which a mail can
// go out twice: its lease runs out and another sender sends it again.
import type { Context } from "../context.ts";
import type { SourceRecord } from "../db/sources.ts";
import { claimDueOutbound, releaseOutbound, type ClaimedOutbound, type SendResult } from "../db/outbound-messages.ts";
import { exponentialMs } from "../scheduler/backoff.ts";
import { createWakeableSleep } from "../scheduler/wakeable-sleep.ts";
import type { WorkLoop } from "../scheduler/work-loop.ts";
import { createSmtpPool } from "../sources/imap/smtp-pool.ts";
import { sendViaSmtp, type SmtpSender } from "../sources/imap/smtp-sender.ts";
import { createOutboxRecorder, writeOutcomes, type Outcome } from "./outbox-recorder.ts";
import { prepareClaimed, type Prepared } from "./prepare-outbound.ts";
import { sendThroughSource, type SendOutcome } from "./send-through-source.ts";

/** The longest a provider takes to answer (SMTP's timeout is 30 s), and a margin, before a claim is taken again. */
const LEASE_MS = 120_000;
/** A message claimed ahead starts only with this much of its lease left: the provider's timeout and a margin. */
const LEASE_LEFT_TO_START_MS = 60_000;
const POLL_MS = 1000;

export function startOutboxSender(ctx: Context): WorkLoop {
  const slots = ctx.config.outbound.concurrency;
  const smtp = createSmtpPool({ maxConnections: slots });
  const recorder = createOutboxRecorder(ctx);
  const wakeup = createWakeableSleep();
  const unsubscribe = ctx.database.onWake("outbound", () => wakeup.wakeOne());
  let running = true;
  let inFlight = 0;
  // Claimed and prepared ahead of the free slots: a slot that frees takes the next message at once,
  // and claims come in batches of about a round of slots instead of one message per freed slot.
  let ready: Prepared[] = [];
  const sleep = (ms: number) => (running ? wakeup.sleep(ms) : Promise.resolve());

  const startReady = () => {
    const expiring: ClaimedOutbound[] = [];
    while (running && inFlight < slots && ready.length > 0) {
      const p = ready.shift()!;
      // Slow providers kept the slots busy: rather than send under a lease about to run out (and
      // risk a second sender taking it), the message goes back to be claimed afresh.
      if (p.claimed.leasedUntil.getTime() - ctx.clock.now().getTime() < LEASE_LEFT_TO_START_MS) {
        expiring.push(p.claimed);
        continue;
      }
      inFlight++;
      void sendPrepared(ctx, p, smtp.send).then(async ({ outcome, copying }) => {
        recorder.add(outcome);
        await copying;
        inFlight--;
        startReady();
        wakeup.wakeOne();
      });
    }
    if (expiring.length > 0) void giveBack(expiring);
  };

  const giveBack = (claimed: ClaimedOutbound[]) =>
    releaseOutbound(ctx.db, claimed).catch((err: unknown) => {
      if (!ctx.databaseOutage.report(err)) ctx.log.warn({ err, count: claimed.length }, "giving back unsent outgoing mail failed; it is sent when its lease ends");
    });

  const claimLoop = async () => {
    let failures = 0;
    while (running) {
      startReady();
      if (ready.length >= slots) {
        await sleep(POLL_MS);
        continue;
      }
      const wanted = 2 * slots - inFlight - ready.length;
      try {
        const prepared = await claimAndPrepare(ctx, wanted);
        failures = 0;
        ready.push(...prepared);
        startReady();
        if (prepared.length < wanted) await sleep(POLL_MS);
      } catch (err) {
        failures++;
        if (!ctx.databaseOutage.report(err)) ctx.log.error({ err }, "claiming outgoing mail failed");
        await sleep(exponentialMs(failures, 500, 30_000));
      }
    }
  };
  const looping = claimLoop();

  return {
    stop: async () => {
      running = false;
      unsubscribe();
      wakeup.wake();
      await looping;
      // What was claimed ahead and not started goes back at once, not when its lease ends.
      await giveBack(ready.map((p) => p.claimed));
      ready = [];
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
      await recorder.idle();
      smtp.close();
    },
  };
}

/**
 * Claims, sends and records up to `limit` due messages, side by side, and answers how many it
 * took. Alone (a test's call), SMTP gets a connection of its own for each message.
 */
export async function sendDue(ctx: Context, opts: { limit: number; smtp?: SmtpSender }): Promise<number> {
  const prepared = await claimAndPrepare(ctx, opts.limit);
  const sent = await Promise.all(prepared.map((p) => sendPrepared(ctx, p, opts.smtp ?? sendViaSmtp)));
  await writeOutcomes(ctx, sent.map((s) => s.outcome));
  await Promise.all(sent.map((s) => s.copying));
  return sent.length;
}

/** Sends one due message; false when none was due. */
export async function sendNext(ctx: Context, smtp?: SmtpSender): Promise<boolean> {
  return (await sendDue(ctx, { limit: 1, smtp })) > 0;
}

/** A claim whose preparation fails (the database went away) is given back, to be claimed again at once. */
async function claimAndPrepare(ctx: Context, limit: number): Promise<Prepared[]> {
  const now = ctx.clock.now();
  const claimed = await claimDueOutbound(ctx.db, { now, leaseUntil: new Date(now.getTime() + LEASE_MS), limit });
  try {
    return await prepareClaimed(ctx, claimed);
  } catch (err) {
    await releaseOutbound(ctx.db, claimed).catch(() => {});
    throw err;
  }
}

/** The send phase, ending in the outcome to record (and the Sent copy, if one is under way); never throws. */
async function sendPrepared(ctx: Context, p: Prepared, smtp: SmtpSender): Promise<{ outcome: Outcome; copying?: Promise<void> }> {
  const attemptedAt = ctx.clock.now();
  const started = Date.now();
  const sent: SendOutcome = "problem" in p ? { kind: "permanent", error: p.problem } : await send(ctx, p.claimed, p.source, p.raw, smtp);
  const durationMs = Date.now() - started;
  const result = resultOf(ctx, p.claimed, sent, attemptedAt);
  ctx.metrics.recordOutboundAttempt(result.outcome, durationMs);
  return { outcome: { claimed: p.claimed, result, attemptedAt, durationMs, source: p.source }, copying: sent.kind === "sent" ? sent.copying : undefined };
}

/**
 * A provider module that throws is a bug, not the provider's answer: it is logged and counted as
 * a temporary failure, so the message follows the retry schedule to `failed` instead of being
 * claimed again every lease, forever.
 */
async function send(ctx: Context, claimed: ClaimedOutbound, source: SourceRecord, raw: Buffer, smtp: SmtpSender): Promise<SendOutcome> {
  const recipients = [...claimed.to, ...claimed.cc, ...claimed.bcc];
  try {
    return await sendThroughSource(ctx, { source, raw, recipients, bcc: claimed.bcc, providerThreadId: claimed.providerThreadId }, smtp);
  } catch (err) {
    ctx.log.error({ err, outboundMessageId: claimed.id, sourceId: source.id }, "sending an outgoing mail crashed");
    return { kind: "transient", error: `mailgate could not send it: ${(err as Error).message}` };
  }
}

/** A transient failure is tried again on the schedule, and fails once the schedule is used up. */
function resultOf(ctx: Context, claimed: ClaimedOutbound, outcome: SendOutcome, now: Date): SendResult {
  switch (outcome.kind) {
    case "sent":
      return { outcome: "sent", providerId: outcome.providerId, providerThreadId: outcome.threadId };
    case "permanent":
      return { outcome: "permanent", error: outcome.error };
    case "waiting_for_authorization":
      return { outcome: "waiting_for_authorization", error: outcome.error };
    case "transient": {
      const schedule = ctx.config.outbound.retryScheduleSeconds;
      const delaySeconds = schedule[claimed.attempts];
      if (delaySeconds === undefined) return { outcome: "permanent", error: `gave up after ${claimed.attempts + 1} attempts: ${outcome.error}` };
      const delayMs = Math.max(delaySeconds * 1000, outcome.retryAfterMs ?? 0);
      return { outcome: "transient", error: outcome.error, retryAt: new Date(now.getTime() + delayMs) };
    }
  }
}
