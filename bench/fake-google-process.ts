// The fake Google of bench:gmail and bench:gmail-sources in a process of its own, so that its CPU
// (the HTTP server, the RS256 signing of Pub/Sub's push tokens, the push request itself) is counted
// apart from mailgate's. Driven over the IPC channel by bench/gmail.ts and bench/gmail-sources.ts:
// one request {id, method, args}, one answer {id, result} or {id, error}.
import { PUSH_SERVICE_ACCOUNT, startFakeGoogle } from "../tests/fakes/google/fake-google.ts";
import { buildEmail } from "../tests/helpers/build-email.ts";
import { serveBenchCalls } from "./child-process.ts";

export type FakeGoogleCall =
  | { method: "describe" }
  /** Plays the browser at the consent screen, signed in as `email` if given (else the URL's login_hint decides). */
  | { method: "consent"; url: string; email?: string }
  /** More users, each with an empty mailbox. */
  | { method: "addMailboxes"; emails: string[] }
  /**
   * Runs a whole timed schedule here, so that no IPC round trip paces it: `rate` times a second for
   * `seconds`, a new mail in a random one of `mailboxes`, then Pub/Sub's push for that mailbox.
   * Answers every push's timing once the last one was answered.
   */
  | { method: "schedule"; endpoint: string; audience: string; mailboxes: string[]; rate: number; seconds: number }
  /** New mail in the fake mailbox; answers its message id. */
  | { method: "deliver"; raw: Uint8Array }
  /** POSTs Pub/Sub's push for the mailbox as it is now to the endpoint, as Google would. */
  | { method: "push"; endpoint: string; audience: string }
  /** A Pub/Sub push token for the audience, as the fake's Google signs them. */
  | { method: "pushToken"; audience: string }
  | { method: "stats" };

export type PushTiming = { sentAt: number; ackMs: number; status: number; body: string };
/** A scheduled push: its mailbox and message, and how late (ms) it left after its planned time. */
export type ScheduledPush = PushTiming & { mailbox: string; messageId: string; lateMs: number };

const google = await startFakeGoogle();
/** Milliseconds on a clock shared with the parent process. */
const now = () => performance.timeOrigin + performance.now();

async function answer(call: FakeGoogleCall): Promise<unknown> {
  switch (call.method) {
    case "describe":
      return { env: google.env(), client: google.client, emailAddress: google.mailbox.emailAddress, serviceAccount: PUSH_SERVICE_ACCOUNT };
    case "consent":
      return google.consent(call.url, { email: call.email });
    case "addMailboxes":
      for (const email of call.emails) google.addMailbox(email);
      return call.emails.length;
    case "schedule":
      return runSchedule(call);
    case "deliver":
      return (await google.deliver(Buffer.from(call.raw), { notify: false })).message.id;
    case "push":
      return push(call.endpoint, call.audience);
    case "pushToken":
      return google.oauth.signPushToken({ audience: call.audience, email: PUSH_SERVICE_ACCOUNT });
    case "stats":
      return {
        cpu: process.cpuUsage(),
        gmailCalls: google.requests.filter((r) => r.path.startsWith("/gmail/")).length,
        tokenRefreshes: google.oauth.tokenRequests.filter((r) => r.grantType === "refresh_token").length,
      };
  }
}

/** Pub/Sub's push of the mailbox's notification as it is now, timed from just before the POST. */
async function push(endpoint: string, audience: string, mailbox?: string): Promise<PushTiming> {
  const request = google.pushRequest({ mailbox, token: google.oauth.signPushToken({ audience, email: PUSH_SERVICE_ACCOUNT }) });
  const sentAt = now();
  const res = await fetch(endpoint, { method: "POST", headers: request.headers, body: JSON.stringify(request.body) });
  const ackMs = now() - sentAt;
  return { sentAt, ackMs, status: res.status, body: await res.text() };
}

async function runSchedule(call: Extract<FakeGoogleCall, { method: "schedule" }>): Promise<ScheduledPush[]> {
  const total = Math.round(call.rate * call.seconds);
  const pushes: Promise<ScheduledPush>[] = [];
  const start = now();
  for (let i = 0; i < total; i++) {
    const plannedAt = start + (i * 1000) / call.rate;
    const wait = plannedAt - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const mailbox = call.mailboxes[Math.floor(Math.random() * call.mailboxes.length)]!;
    const raw = buildEmail({ from: `user${i % 50}@acme.com`, subject: `Bench ${i}: printer jam`, text: `Body ${i}` });
    const messageId = (await google.deliver(raw, { mailbox, notify: false })).message.id;
    const lateMs = now() - plannedAt;
    // Not awaited: pushes overlap as Pub/Sub's do when mailgate answers slower than they come.
    pushes.push(push(call.endpoint, call.audience, mailbox).then((timing) => ({ ...timing, mailbox, messageId, lateMs })));
  }
  return Promise.all(pushes);
}

serveBenchCalls(answer, () => google.close());
