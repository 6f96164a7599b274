// One scenario's world: a fresh database on the private server, a mailgate process on it with an
// api source, a company and a webhook endpoint to the receiver; then, after the fault, the wait
// for recovery and the count. The count asks mailgate's API (tickets) and the receiver (events),
// never mailgate's logs; only the progress poll during recovery reads the database, because
// listing every ticket twice a second would itself load the machine under test.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startMailgateProcess, type MailgateProcess } from "../../tests/helpers/mailgate-process.ts";
import type { PrivatePostgres } from "./private-postgres.ts";
import type { LoadOptions, LoadResult } from "./load-driver.ts";
import { sleep } from "./load-driver.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.ts";
import { onCleanup } from "./cleanup.ts";

const TOKEN = "chaos-suite-admin-token-0123456789";
const SECRET_KEY = randomBytes(32).toString("hex");
// Short enough that a receiver back after a minute is retried within seconds (the default waits
// 300 s after the second failure); long enough (about 4 min in all) to outlast every outage here.
const RETRY_SCHEDULE = "0,1,2,4,8,15,15,15,15,15,15,15,15,15,15,15,15,15,15,15";

export type Outcome = {
  fault: string;
  sent: number;
  ticketed: number;
  lost: number;
  duplicateTickets: number;
  undelivered: number;
  /** Milliseconds from the fault's end to ready with the backlog processed; null when it never was. */
  recoveryMs: number | null;
  /** Why the row fails, beyond the counts (a death, 500s, a hung /readyz...). */
  problems: string[];
  /** What else is worth knowing (answers seen, redeliveries). */
  notes: string[];
  /** The scenario's wall time, set up and count included (set by the runner). */
  tookMs?: number;
};

export type Trial = {
  mailgate(): MailgateProcess;
  /** This scenario's own receiver, so counts never mix scenarios. */
  receiver: WebhookReceiver;
  /** The scenario's database on the private server. */
  database: string;
  sourceId: string;
  loadOptions(overrides: Partial<LoadOptions> & Pick<LoadOptions, "concurrency" | "ratePerSecond" | "maxMessages">): LoadOptions;
  /** Tickets in the database now (progress only). */
  ticketCount(): Promise<number>;
  /** SIGKILL, then a new process on the same port; resolves once it was spawned. */
  killAndRestart(downMs: number, env?: Record<string, string>): Promise<void>;
  /** A stop and a start with other settings (e.g. roles), on the same port. */
  restartWith(env: Record<string, string>): Promise<void>;
  /** Records a death the suite did not cause and starts a new process, so the count can go on. */
  reviveIfDead(when: string): Promise<boolean>;
  problem(text: string): void;
  note(text: string): void;
  /** Waits for recovery from `faultEndedAt`, then counts. */
  finish(faultEndedAt: number, load: Promise<LoadResult>, settleTimeoutMs: number): Promise<Outcome>;
  /** Stops mailgate and the receiver, and drops the database. */
  close(): Promise<void>;
};

export async function openTrial(fault: string, pg: PrivatePostgres, tempRoot: string): Promise<Trial> {
  const receiver = await startWebhookReceiver();
  const database = `chaos_${fault.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${randomBytes(3).toString("hex")}`;
  await pg.createDatabase(database);
  const dataDir = mkdtempSync(path.join(tempRoot, "mailgate-"));
  const baseEnv = {
    DATABASE_URL: pg.urlOf(database),
    DATA_DIR: dataDir,
    ADMIN_API_TOKEN: TOKEN,
    MAILGATE_SECRET_KEY: SECRET_KEY,
    WEBHOOK_ALLOW_HTTP: "true",
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    WEBHOOK_RETRY_SCHEDULE: RETRY_SCHEDULE,
    // A delivery cut by a kill is sent again when its lease (this timeout + 60 s) runs out.
    WEBHOOK_TIMEOUT_MS: "2000",
    SHUTDOWN_TIMEOUT_MS: "3000",
    LOG_LEVEL: "warn",
  };
  let env: Record<string, string> = baseEnv;
  // Assigned before any use but the cleanup, which may run while the first start is under way.
  let current!: MailgateProcess;
  const release = onCleanup(`scenario ${fault}`, async () => {
    await (current as MailgateProcess | undefined)?.stop();
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
    await pg.dropDatabase(database).catch(() => {});
  });
  current = await startMailgateProcess(fault, env);
  const port = Number(new URL(current.url).port);
  const problems: string[] = [];
  const notes: string[] = [];
  const deaths: string[] = [];
  await current.waitReady(60_000);

  const api = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${current.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  await api("POST", "/api/companies", { name: "Acme Corporation", domains: ["acme.example"] });
  const source = await api<{ id: string }>("POST", "/api/sources", { kind: "api", name: "Chaos", address: "support@msp.example", role: "system" });
  await api("POST", "/api/webhooks", { url: receiver.url, events: ["ticket.created"] });

  const respawn = async (nextEnv: Record<string, string>) => {
    await current.stop(); // on a dead process this only removes its own temp dir
    env = nextEnv;
    current = await startMailgateProcess(fault, env, { port });
  };

  const readyWithin = async (ms: number) =>
    fetch(`${current.url}/readyz`, { signal: AbortSignal.timeout(ms) }).then(
      (r) => r.ok,
      () => false,
    );

  const reviveIfDead = async (when: string) => {
    if (current.running()) return false;
    const said = crashLine(current.output());
    console.error(`chaos: mailgate died ${when}; the end of what it said:\n${current.output().split("\n").slice(-12).map((l) => l.slice(0, 300)).join("\n")}`);
    deaths.push(`mailgate died ${when} (${current.exit()}${said ? `: ${said}` : ""})`);
    await respawn(env);
    return true;
  };

  /** Every page of GET /api/tickets. */
  const allTickets = async () => {
    const out: { id: string; subject: string }[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 1_000; page++) {
      const query: string = `/api/tickets?limit=500${cursor ? `&cursor=${cursor}` : ""}`;
      const body: { items: { id: string; subject: string }[]; nextCursor: string | null } = await api("GET", query);
      out.push(...body.items);
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    return out;
  };

  /** Where the deliveries of a row that never recovered stand, and what mailgate last said: the clues for a fix. */
  const undeliveredState = async () => {
    const now = Date.now();
    const rows = await pg
      .query<{ status: string; leased: boolean; n: string; next_due: Date | null; lease_ends: Date | null }>(
        database,
        `select status, (leased_until is not null) as leased, count(*) as n, min(next_attempt_at) as next_due, max(leased_until) as lease_ends
           from webhook_deliveries group by 1, 2 order by 1, 2`,
      )
      .catch((err: Error) => [{ status: `unreadable: ${err.message}`, leased: false, n: "", next_due: null, lease_ends: null }]);
    const events = await pg.query<{ n: string }>(database, "select count(*) as n from events").catch(() => [{ n: "?" }]);
    const inSeconds = (at: Date | null) => (at ? `${((new Date(at).getTime() - now) / 1000).toFixed(0)} s` : "-");
    return [
      `${events[0]!.n} events; deliveries: ${rows.map((r) => `${r.status}${r.leased ? " leased" : ""}×${r.n} (next due in ${inSeconds(r.next_due)}, lease ends in ${inSeconds(r.lease_ends)})`).join(", ")}`,
      `mailgate's last words: ${current.output().split("\n").filter(Boolean).slice(-6).map((l) => l.slice(0, 400)).join(" | ")}`,
    ];
  };

  return {
    mailgate: () => current,
    receiver,
    database,
    sourceId: source.id,
    loadOptions: (o) => ({
      url: current.url,
      token: TOKEN,
      sourceId: source.id,
      label: fault,
      giveUpAfterMs: 180_000,
      ...o,
    }),
    ticketCount: async () => Number((await pg.query<{ n: string }>(database, "select count(*) as n from tickets"))[0]!.n),
    killAndRestart: async (downMs, nextEnv) => {
      await current.kill();
      await sleep(downMs);
      await respawn(nextEnv ?? baseEnv);
    },
    restartWith: async (nextEnv) => {
      await respawn({ ...baseEnv, ...nextEnv });
    },
    reviveIfDead,
    problem: (text) => void problems.push(text),
    note: (text) => void notes.push(text),

    finish: async (faultEndedAt, loadDone, settleTimeoutMs) => {
      const deadline = faultEndedAt + settleTimeoutMs;
      let load: LoadResult | null = null;
      void loadDone.then((r) => (load = r));
      let recoveredAt: number | null = null;
      // When each part of recovery was first seen, for the notes: ready, every message ticketed.
      let readyAt: number | null = null;
      let ticketedAt: number | null = null;
      while (Date.now() < deadline) {
        await reviveIfDead("after the fault");
        if (await readyWithin(1_000)) {
          readyAt ??= Date.now();
          const tickets = await pg
            .query<{ n: string; waiting: string }>(
              database,
              "select (select count(*) from tickets) as n, (select count(*) from inbound_messages where status = 'received') as waiting",
            )
            .catch(() => null);
          const n = Number(tickets?.[0]?.n ?? -1);
          const accepted = load ? (load as LoadResult).accepted.size : Infinity;
          if (n >= accepted && Number(tickets?.[0]?.waiting ?? 1) === 0) {
            ticketedAt ??= Date.now();
            if (receiver.ticketsCreated().size >= n) {
              recoveredAt = Date.now();
              break;
            }
          }
        }
        await sleep(250);
      }
      const after = (at: number | null) => (at === null ? "never" : `${((at - faultEndedAt) / 1000).toFixed(1)} s`);
      notes.push(`ready after ${after(readyAt)}, all ticketed after ${after(ticketedAt)}, all events delivered after ${after(recoveredAt)}`);
      // A request can outlive the settle deadline only by its own timeout and retry cap.
      const result = load ?? (await loadDone);
      // A late second ticket or a repeat delivery would show within this.
      await sleep(1_000);
      await reviveIfDead("while counting");
      await current.waitReady(60_000).catch((err: Error) => problems.push(`not ready for the count: ${err.message.split("\n")[0]}`));
      const tickets = await allTickets();

      const ticketsBySubject = new Map<string, string[]>();
      for (const t of tickets) ticketsBySubject.set(t.subject, [...(ticketsBySubject.get(t.subject) ?? []), t.id]);
      let lost = 0;
      let duplicateTickets = 0;
      for (const subject of result.accepted.keys()) {
        const ids = ticketsBySubject.get(subject) ?? [];
        if (ids.length === 0) lost++;
        if (ids.length > 1) duplicateTickets++;
      }
      const created = receiver.ticketsCreated();
      const undelivered = tickets.filter((t) => !created.has(t.id)).length;

      problems.unshift(...deaths);
      if (result.abandoned > 0) problems.push(`${result.abandoned} messages never accepted by their senders' deadline`);
      const fiveHundreds = result.answers.get("500") ?? 0;
      if (fiveHundreds > 0) problems.push(`${fiveHundreds} intake answers were 500 (a sender should get 503 and retry)`);
      // A database fault must be answered (503 with Retry-After), not left hanging past a sender's timeout.
      const hung = result.answers.get("no answer in time") ?? 0;
      if (hung > 0) problems.push(`${hung} intake requests had no answer within the senders' timeout (they should get a prompt 503)`);
      if (recoveredAt === null) {
        problems.push(`not recovered within ${Math.round(settleTimeoutMs / 1000)} s of the fault's end`);
        notes.push(...(await undeliveredState()));
      }
      notes.push(`answers: ${[...result.answers].map(([k, v]) => `${k}×${v}`).join(", ")}; peak in flight ${result.peakInFlight}`);
      const repeats = receiver.requests();
      if (repeats > receiver.received.size) notes.push(`${repeats - receiver.received.size} repeat webhook deliveries (same webhook-id)`);
      return {
        fault,
        sent: result.accepted.size,
        ticketed: result.accepted.size - lost,
        lost,
        duplicateTickets,
        undelivered,
        recoveryMs: recoveredAt === null ? null : recoveredAt - faultEndedAt,
        problems,
        notes,
      };
    },

    close: release,
  };
}

/**
 * The line that says why the process ended, shortened for the report: the last thrown error
 * (`TypeError: ...` of a crash) if there is one, else the last fatal or error log line.
 */
function crashLine(output: string): string | null {
  const lines = output.split("\n").map((l) => l.trim()).filter(Boolean).reverse();
  const thrown = lines.find((l) => /^(\w*Error|Uncaught|Unhandled)\b.*:/.test(l) || /"level":60/.test(l));
  const logged = lines.find((l) => /"level":50/.test(l));
  const line = thrown ?? logged;
  if (!line) return null;
  const message = /"msg":"([^"]*)"/.exec(line)?.[1];
  const errMessage = /"message":"([^"]*)"/.exec(line)?.[1];
  return (line.startsWith("{") ? [message, errMessage].filter(Boolean).join(": ") : line).slice(0, 200);
}

export function suiteTempRoot(): string {
  return mkdtempSync(path.join(os.tmpdir(), "mailgate-chaos-"));
}
