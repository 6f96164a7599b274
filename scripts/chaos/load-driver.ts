// Senders for the chaos suite: POST /api/inbound with raw MIME, a bounded number in flight, each
// behaving like a real mail relay: a 5xx or a connection error means "try again later" with the
// same bytes (mailgate dedupes by content and Message-ID, so a retry must not make a second
// ticket). A message counts as sent once it got a 2xx; the answers seen are tallied so a report
// can say whether an outage was answered 503 (as promised) or 500.
import { randomBytes } from "node:crypto";
import { buildEmail } from "../../tests/helpers/build-email.ts";

export type LoadOptions = {
  url: string;
  token: string;
  sourceId: string;
  /** Label in every subject and Message-ID, so one scenario's mail is told from another's. */
  label: string;
  /** Requests in flight at most. */
  concurrency: number;
  /** New messages per second at most (0: as fast as the concurrency allows). */
  ratePerSecond: number;
  /** No new message after this many (the load also stops when stop() is called). */
  maxMessages: number;
  /** A message not accepted by then is given up (counted in `abandoned`, never as sent). */
  giveUpAfterMs: number;
  /** Wait per attempt; a hung request is a connection error for the sender. */
  requestTimeoutMs?: number;
};

export type LoadResult = {
  /** Message-IDs (without angle brackets) by the subject that carries them, accepted with 2xx. */
  accepted: Map<string, string>;
  abandoned: number;
  /** Attempts by outcome: the status ("202", "503", "500"), "connection error" or "no answer in time". */
  answers: Map<string, number>;
  /** Largest number of requests in flight at once. */
  peakInFlight: number;
};

export type Load = {
  /** No new messages; those in flight keep retrying until accepted or given up. */
  stop(): void;
  /** Resolves when every message started has been accepted or given up. */
  finished: Promise<LoadResult>;
  accepted(): number;
  inFlight(): number;
};

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 2_000;

export function startLoad(options: LoadOptions): Load {
  const result: LoadResult = { accepted: new Map(), abandoned: 0, answers: new Map(), peakInFlight: 0 };
  let stopped = false;
  let started = 0;
  let inFlight = 0;
  const tally = (answer: string) => result.answers.set(answer, (result.answers.get(answer) ?? 0) + 1);
  const firstAt = Date.now();

  const sendOne = async (n: number) => {
    const token = `${options.label}-${n}-${randomBytes(4).toString("hex")}`;
    const messageId = `${token}@acme.example`;
    const subject = `Chaos ${token}`;
    const raw = buildEmail({ from: "Customer <customer@acme.example>", to: "support@msp.example", subject, messageId, text: `Message ${n}.` });
    const giveUpAt = Date.now() + options.giveUpAfterMs;
    let wait = RETRY_MIN_MS;
    for (;;) {
      inFlight++;
      result.peakInFlight = Math.max(result.peakInFlight, inFlight);
      let retryAfterMs: number | null = null;
      try {
        const res = await fetch(`${options.url}/api/inbound?sourceId=${options.sourceId}`, {
          method: "POST",
          headers: { authorization: `Bearer ${options.token}`, "content-type": "message/rfc822" },
          body: raw,
          signal: AbortSignal.timeout(options.requestTimeoutMs ?? 10_000),
        });
        await res.arrayBuffer();
        tally(String(res.status));
        if (res.ok) {
          result.accepted.set(subject, messageId);
          return;
        }
        if (res.status < 500 && res.status !== 408 && res.status !== 429) {
          // A relay bounces a message the receiver refuses for good; the suite's mail never should be.
          result.abandoned++;
          return;
        }
        const header = Number(res.headers.get("retry-after"));
        if (Number.isFinite(header) && header > 0) retryAfterMs = header * 1000;
      } catch (err) {
        // A request that hangs and one refused say different things about the server.
        tally((err as Error).name === "TimeoutError" ? "no answer in time" : "connection error");
      } finally {
        inFlight--;
      }
      if (Date.now() + wait > giveUpAt) {
        result.abandoned++;
        return;
      }
      await sleep(Math.min(retryAfterMs ?? wait, RETRY_MAX_MS));
      wait = Math.min(wait * 2, RETRY_MAX_MS);
    }
  };

  const finished = (async () => {
    const running = new Set<Promise<void>>();
    while (!stopped && started < options.maxMessages) {
      if (running.size >= options.concurrency) {
        await Promise.race(running);
        continue;
      }
      if (options.ratePerSecond > 0) {
        const due = firstAt + (started * 1000) / options.ratePerSecond;
        if (due > Date.now()) {
          await sleep(Math.max(0, Math.min(due - Date.now(), 100)));
          continue;
        }
      }
      const p = sendOne(started++).finally(() => running.delete(p));
      running.add(p);
    }
    await Promise.all(running);
    return result;
  })();

  return {
    stop: () => void (stopped = true),
    finished,
    accepted: () => result.accepted.size,
    inFlight: () => inFlight,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
