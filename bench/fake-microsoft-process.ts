// The fake Microsoft of bench:graph-sources in a process of its own, so that its CPU (the HTTPS
// server, the notifications it POSTs, the $value and delta answers) is counted apart from
// mailgate's. Driven over the IPC channel by bench/graph-sources.ts: one request {id, call}, one
// answer {id, result} or {id, error}. The timed schedule runs here, not one IPC round trip per
// notification: "run" delivers and notifies at the given rate, and answers when all were sent.
import { startFakeMicrosoft } from "../tests/fakes/microsoft/fake-microsoft.ts";
import { trustTestCertificate } from "../tests/fakes/microsoft/test-certificate.ts";
import { buildEmail } from "../tests/helpers/build-email.ts";
import { serveBenchCalls } from "./child-process.ts";

export type FakeMicrosoftCall =
  | { method: "describe" }
  /** `count` users with a mailbox each; answers their addresses. */
  | { method: "addUsers"; count: number }
  | { method: "consent"; url: string; mail: string }
  /** How many users have a live subscription on their Inbox. */
  | { method: "subscribedUsers" }
  /**
   * Message i (subject `${prefix}${i}`, to mailbox `to[i]`) lands and is notified at
   * startAt + i / rate seconds (startAt on the clock shared with the parent).
   */
  | { method: "run"; prefix: string; to: string[]; rate: number; startAt: number }
  | { method: "stats" };

/** One notification of the run: when it was sent, and how our endpoint answered it. */
export type Sent = { subject: string; to: string; sentAt: number; status: number; ackMs: number; error?: string };

export type FakeMicrosoftStats = { cpu: NodeJS.CpuUsage; requests: Record<string, number>; notifications: number };

trustTestCertificate(); // the fake POSTs notifications to mailgate's https endpoint
const fake = await startFakeMicrosoft();
/** Milliseconds on a clock shared with the parent process. */
const now = () => performance.timeOrigin + performance.now();

async function answer(call: FakeMicrosoftCall): Promise<unknown> {
  switch (call.method) {
    case "describe":
      return { env: fake.env(), app: fake.app };
    case "addUsers":
      return Array.from({ length: call.count }, (_, i) => fake.addUser({ mail: `support${i}@contoso.test` }).mail);
    case "consent":
      return fake.consent(call.url, { mail: call.mail });
    case "subscribedUsers":
      return new Set(fake.subscriptions.liveOnes().map((s) => s.userId)).size;
    case "run":
      return run(call);
    case "stats": {
      const requests: Record<string, number> = {};
      for (const r of fake.requests) {
        const kind = r.path.includes("/$value") ? "$value" : r.path.includes("/delta") ? "delta" : r.path.includes("/oauth2/") ? "token" : r.path.split("?")[0]!.replace(/\/[^/]{30,}$/, "/{id}");
        requests[`${r.method} ${kind}`] = (requests[`${r.method} ${kind}`] ?? 0) + 1;
      }
      return { cpu: process.cpuUsage(), requests, notifications: fake.subscriptions.deliveries.length } satisfies FakeMicrosoftStats;
    }
  }
}

/** The timed schedule: every message is built first, so the run itself costs only delivery. */
async function run(call: Extract<FakeMicrosoftCall, { method: "run" }>): Promise<Sent[]> {
  const raws = call.to.map((_, i) => buildEmail({ from: `customer${i % 50}@acme.com`, subject: `${call.prefix}${i}`, text: `Bench message ${i}.` }));
  const sends: Promise<Sent>[] = [];
  const send = async (i: number): Promise<Sent> => {
    const sentAt = now();
    const { deliveries } = await fake.deliver(raws[i]!, { to: call.to[i]! });
    const d = deliveries[0];
    return { subject: `${call.prefix}${i}`, to: call.to[i]!, sentAt, status: d?.status ?? 0, ackMs: d?.ms ?? NaN, ...(d?.error ? { error: d.error } : d ? {} : { error: "no live subscription" }) };
  };
  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = () => {
      // Whatever is due by now goes out, so a late timer catches up instead of slipping the rate.
      const due = Math.min(call.to.length, Math.floor(((now() - call.startAt) * call.rate) / 1000) + 1);
      while (next < due) sends.push(send(next++));
      if (next >= call.to.length) return resolve();
      setTimeout(tick, Math.max(0, call.startAt + (next * 1000) / call.rate - now()));
    };
    setTimeout(tick, Math.max(0, call.startAt - now()));
  });
  return Promise.all(sends);
}

serveBenchCalls(answer, () => fake.close());
