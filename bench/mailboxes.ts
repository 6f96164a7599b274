// bench:mailboxes — N IMAP mailboxes held by mailgate at once (the many-mailboxes issue). One real
// Dovecot on loopback with N users (limits raised for N sessions), N IMAP sources created through
// the HTTP API on a fresh Postgres database, and mailgate as real child processes
// (`node src/main.ts`, MAILGATE_ROLES=sources,worker), so their memory and CPU are their own.
// It prints:
//   connect   spawn → every mailbox has a mailgate session in Dovecot (`doveadm who`) and every
//             source is `connected` in mail_sources
//   idle      mailgate's RSS and CPU (user + system, /proc) over BENCH_IDLE_SECONDS idle seconds,
//             from 5 s after the connect; RSS per mailbox is counted above the RSS at the first session
//   latency   APPEND → ticket p50/p99 for BENCH_MAILS mails, one at a time, to random mailboxes
//             among 20 that a bare imapflow client watches in IDLE: its EXISTS is Dovecot's floor,
//             measured in the same run (the ticket clock polls the database every 10 ms)
//   restart   Dovecot killed; 50 mails delivered into random Maildirs while it is down; restarted
//             on the same port → every mailbox has a session again; each mail ticketed once
//   kill      (BENCH_INSTANCES > 1) the instance holding the most connections gets SIGKILL, with
//             mails appended just before and after → every mailbox has a session again; each
//             mail ticketed once
// Throughout, Dovecot's sessions are sampled every 500 ms: a user with two sessions from mailgate
// is a mailbox held twice. The bench's own IMAP clients connect from 127.0.0.2 and are not counted.
import { spawnSync, fork } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { chownSync, copyFileSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Context } from "../src/context.ts";
import { pgArray, queryRows, sql } from "../src/db/client.ts";
import { createApp } from "../src/http/app.ts";
import { normaliseMessageId } from "../src/pipeline/message-id.ts";
import { startDovecot, type DovecotServer, type TestAccount } from "../tests/fakes/dovecot/dovecot-server.ts";
import { startMailgateProcess, type MailgateProcess } from "../tests/helpers/mailgate-process.ts";
import { benchContext, fmt } from "./bench-database.ts";
import { sampleSessions, type SessionSampler } from "./dovecot-sessions.ts";
import { benchMail, wallClock, type MailboxesCommand, type MailboxesReport } from "./mailboxes-sender.ts";
import { connectionsTo, findProcess, loadAverage, processTreeCpuSeconds, processUsage } from "./process-usage.ts";

const N = Number(process.env.BENCH_MAILBOXES ?? 1000);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const MAILS = Number(process.env.BENCH_MAILS ?? 200);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1);
const FLOOR_MAILBOXES = Math.min(N, 20);
const OUTAGE_MAILS = 50;
const KILL_MAILS = 40;
const TOKEN = "bench-token-0123456789";
const CONNECT_LIMIT_MS = 300_000;
/** After the last source says connected, its first sync may still be running: the idle window starts later. */
const IDLE_SETTLE_MS = 5_000;

type Figure = { what: string; value: string; goal: string; met: boolean | null };
const figures: Figure[] = [];
const figure = (what: string, value: string, goal = "", met: boolean | null = null) => figures.push({ what, value, goal, met });
const seconds = (ms: number) => `${fmt(ms / 1000, 1)} s`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(list: T[]): T => list[randomInt(list.length)]!;

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Every mailgate process's sockets plus Dovecot's: warn when the open-file limit cannot hold them. */
function checkOpenFileLimit(): string {
  const limit = spawnSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).stdout.trim();
  const needed = 2 * N + 200;
  const low = limit !== "unlimited" && Number(limit) < needed;
  return `ulimit -n ${limit}${low ? ` — TOO LOW for ${N} mailboxes (want ≥ ${needed}): raise it before trusting the figures` : ""}`;
}

/**
 * Dovecot watches each session's mailbox with an inotify instance of the mail user (all of this
 * bench's sessions share one uid); past the kernel's per-user limit it logs a warning and falls
 * back to looking every mailbox_idle_check_interval (30 s), and IDLE then hears new mail late.
 */
function checkInotifyLimit(): string {
  const limit = Number(readFileSync("/proc/sys/fs/inotify/max_user_instances", "utf8").trim());
  const needed = N + 2 * FLOOR_MAILBOXES + 50;
  return `fs.inotify.max_user_instances ${limit}${limit < needed ? ` — TOO LOW for ${N} mailboxes (want ≥ ${needed}): IDLE past ${limit} sessions waits for Dovecot's 30 s poll; raise it (sysctl fs.inotify.max_user_instances=${needed}) before trusting the figures` : ""}`;
}

/** The company the bench's mail comes from, and N IMAP sources, through mailgate's own HTTP API. */
async function createSources(ctx: Context, dovecot: DovecotServer, accounts: TestAccount[]): Promise<number> {
  const server = createApp(ctx).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = async (route: string, body: unknown) => {
    const res = await fetch(`${url}${route}`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`POST ${route} answered ${res.status}: ${await res.text()}`);
  };
  const started = performance.now();
  try {
    await post("/api/companies", { name: "Acme", domains: ["acme.example"] });
    let next = 0;
    const one = async () => {
      while (next < accounts.length) {
        const a = accounts[next++]!;
        const imap = { host: dovecot.host, port: dovecot.port, security: "none", user: a.user, password: a.password, folder: "INBOX" };
        await post("/api/sources", { kind: "imap", name: a.user, address: a.user, role: "system", schedule: { mode: "continuous" }, imap });
      }
    };
    await Promise.all(Array.from({ length: 8 }, one));
  } finally {
    await new Promise((r) => server.close(r));
  }
  return performance.now() - started;
}

/** The child process that appends mail and listens for EXISTS (bench/mailboxes-sender.ts). */
function startSender() {
  const child = fork(fileURLToPath(new URL("./mailboxes-sender.ts", import.meta.url)));
  const appended = new Map<number, { user: string; uid: number; at: number }>();
  const exists = new Map<string, { fromUid: number; toUid: number; at: number }[]>();
  const done = new Set<string>();
  let failure: string | null = null;
  child.on("message", (r: MailboxesReport) => {
    switch (r.type) {
      case "done":
        return void done.add(r.command);
      case "appended":
        return void appended.set(r.i, r);
      case "exists":
        return void exists.set(r.user, [...(exists.get(r.user) ?? []), r]);
      case "error":
        return void (failure = r.message);
    }
  });
  const check = () => {
    if (failure) throw new Error(`the sender failed: ${failure}`);
  };
  return {
    /** Sends a command and waits until the sender has done it. */
    run: async (cmd: Exclude<MailboxesCommand, { type: "append" | "stop" }>) => {
      done.delete(cmd.type);
      child.send(cmd);
      await until(`the sender's ${cmd.type}`, () => (check(), done.has(cmd.type)), 60_000, 5);
    },
    /** Appends mail `i` and resolves with Dovecot's acknowledgement. */
    append: async (i: number, account: TestAccount, messageId: string) => {
      child.send({ type: "append", i, account, messageId } satisfies MailboxesCommand);
      await until(`APPEND ${i}`, () => (check(), appended.has(i)), 30_000, 5);
      return appended.get(i)!;
    },
    existsAt: (user: string, uid: number) => exists.get(user)?.find((e) => uid >= e.fromUid && uid <= e.toUid)?.at,
    stop: () => child.send({ type: "stop" } satisfies MailboxesCommand),
  };
}
type Sender = ReturnType<typeof startSender>;

const newMessageId = (phase: string, i: number) => `<mbx-${phase}-${i}-${randomBytes(4).toString("hex")}@acme.example>`;

async function ticketed(ctx: Context, messageId: string): Promise<boolean> {
  const rows = await queryRows(ctx.db, sql`select 1 from message_ids where message_id = ${normaliseMessageId(messageId)} and ticket_id is not null`);
  return rows.length > 0;
}

/** Tickets per sent Message-ID: what "ticketed exactly once" is checked against. */
async function ticketsPerMessage(ctx: Context, messageIds: string[]): Promise<{ missing: number; twice: number }> {
  const ids = messageIds.map((id) => normaliseMessageId(id)!);
  const rows = await queryRows<{ message_id: string; n: string }>(
    ctx.db,
    sql`select message_id, count(distinct ticket_id) as n from ticket_messages where message_id = any(${pgArray(ids)}::text[]) group by message_id`,
  );
  const counts = new Map(rows.map((r) => [r.message_id, Number(r.n)]));
  return { missing: ids.filter((id) => !counts.has(id)).length, twice: ids.filter((id) => (counts.get(id) ?? 0) > 1).length };
}

async function connectedSources(ctx: Context): Promise<number> {
  const [row] = await queryRows<{ n: string }>(ctx.db, sql`select count(*) as n from mail_sources where status = 'connected'`);
  return Number(row?.n ?? 0);
}

/** CPU seconds so far of mailgate's processes and of Dovecot's (master, live and ended children). */
function cpuSoFar(instances: MailgateProcess[], dovecotPid: number | null) {
  return {
    mailgate: instances.reduce((sum, p) => sum + (processUsage(p.pid)?.cpuSeconds ?? 0), 0),
    dovecot: dovecotPid === null ? NaN : processTreeCpuSeconds(dovecotPid),
  };
}

/** Resolves with the instances' RSS (bytes) when the first session appeared: mailgate loaded, before its mailboxes. */
async function measureConnect(ctx: Context, instances: MailgateProcess[], sampler: SessionSampler, spawnedAt: number, dovecotPid: number | null): Promise<number> {
  const dovecotCpuBefore = cpuSoFar([], dovecotPid).dovecot;
  let firstSession: number | null = null;
  let allSessions: number | null = null;
  let rssAtFirst = 0;
  await until(`${N} sessions and ${N} connected sources`, async () => {
    const users = sampler.users();
    if (firstSession === null && users > 0) {
      firstSession = performance.now();
      rssAtFirst = instances.reduce((sum, p) => sum + (processUsage(p.pid)?.rssBytes ?? 0), 0);
    }
    if (allSessions === null && users === N) allSessions = performance.now();
    return allSessions !== null && (await connectedSources(ctx)) === N;
  }, CONNECT_LIMIT_MS);
  const all = performance.now() - spawnedAt;
  const cpu = cpuSoFar(instances, dovecotPid);
  console.log(`connect: CPU until all connected: mailgate ${fmt(cpu.mailgate, 1)} s (start-up included), Dovecot ${fmt(cpu.dovecot - dovecotCpuBefore, 1)} s`);
  console.log(`connect: first session ${seconds(firstSession! - spawnedAt)}, all ${N} sessions ${seconds(allSessions! - spawnedAt)}, all sources connected ${seconds(all)} after spawn`);
  figure(`spawn → all ${N} connected (Dovecot + mail_sources)`, seconds(all), "≤ 60 s", all <= 60_000);
  figure("  of which first session → all sessions", seconds(allSessions! - firstSession!));
  return rssAtFirst;
}

async function measureIdle(instances: MailgateProcess[], rssAtFirstSession: number): Promise<void> {
  await sleep(IDLE_SETTLE_MS);
  const before = instances.map((p) => processUsage(p.pid));
  const peakRss = instances.map(() => 0);
  for (let s = 0; s < IDLE_SECONDS; s++) {
    await sleep(1000);
    instances.forEach((p, k) => (peakRss[k] = Math.max(peakRss[k]!, processUsage(p.pid)?.rssBytes ?? 0)));
  }
  const after = instances.map((p) => processUsage(p.pid));
  const cpuPercent = instances.map((_, k) => ((after[k]!.cpuSeconds - before[k]!.cpuSeconds) / IDLE_SECONDS) * 100);
  const rssMb = after.map((u) => u!.rssBytes / 1024 / 1024);
  instances.forEach((p, k) =>
    console.log(`idle: ${p.name} (pid ${p.pid}) RSS ${fmt(rssMb[k]!)} MB (peak ${fmt(peakRss[k]! / 1024 / 1024)} MB), CPU ${fmt(cpuPercent[k]!, 2)} % of one core`),
  );
  const totalRss = rssMb.reduce((a, b) => a + b, 0);
  const largestRss = Math.max(...rssMb);
  const totalCpu = cpuPercent.reduce((a, b) => a + b, 0);
  figure(`RSS after ${IDLE_SECONDS} idle s${instances.length > 1 ? " (largest instance)" : ""}`, `${fmt(largestRss)} MB`, "< 600 MB", largestRss < 600);
  if (instances.length > 1) figure(`  sum of ${instances.length} instances`, `${fmt(totalRss)} MB`);
  const baseline = rssAtFirstSession / 1024 / 1024;
  figure(`  RSS when the first session opened${instances.length > 1 ? " (sum)" : ""}`, `${fmt(baseline)} MB`);
  figure("  (idle RSS − that) per mailbox", `${fmt(((totalRss - baseline) * 1024) / N)} kB`);
  figure(`idle CPU over ${IDLE_SECONDS} s${instances.length > 1 ? ` (sum of ${instances.length})` : ""}`, `${fmt(totalCpu, 2)} % of a core`, "< 3 %", totalCpu < 3);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function measureLatency(ctx: Context, sender: Sender, accounts: TestAccount[], sent: string[]): Promise<void> {
  // Evenly spread over the accounts, which are all alike: as good as a random choice, and repeatable.
  const floor = accounts.filter((_, k) => k % Math.floor(accounts.length / FLOOR_MAILBOXES) === 0).slice(0, FLOOR_MAILBOXES);
  await sender.run({ type: "listen", accounts: floor });
  const exists: number[] = [];
  const ticket: number[] = [];
  for (let i = -1; i < MAILS; i++) {
    const account = pick(floor);
    const messageId = newMessageId("latency", i);
    const acked = await sender.append(i, account, messageId);
    sent.push(messageId);
    let ticketAt: number | null = null;
    await until(`the ticket of mail ${i}`, async () => {
      if (ticketAt === null && (await ticketed(ctx, messageId))) ticketAt = wallClock();
      return ticketAt !== null && sender.existsAt(account.user, acked.uid) !== undefined;
    }, 60_000, 10);
    if (i < 0) continue; // the warm-up
    exists.push(sender.existsAt(account.user, acked.uid)! - acked.at);
    ticket.push(ticketAt! - acked.at);
  }
  await sender.run({ type: "unlisten" });
  exists.sort((a, b) => a - b);
  ticket.sort((a, b) => a - b);
  const gap = percentile(ticket, 99) - percentile(exists, 99);
  console.log(`latency: ${MAILS} mails one at a time to random mailboxes among ${floor.length} (the floor's IDLE clients watch those)`);
  figure(`APPEND → EXISTS (floor), ${floor.length} watched mailboxes`, `p50 ${fmt(percentile(exists, 50))} / p99 ${fmt(percentile(exists, 99))} ms`);
  figure(`APPEND → ticket, ${MAILS} mails`, `p50 ${fmt(percentile(ticket, 50))} / p99 ${fmt(percentile(ticket, 99))} ms`);
  figure("  ticket p99 − floor p99", `${fmt(gap)} ms`, "≤ 250 ms", gap <= 250);
}

/** Delivers a mail as a local delivery agent would, into Maildir/new (through tmp/): Dovecot is not needed. */
function deliverToMaildir(dovecot: DovecotServer, account: TestAccount, i: number, messageId: string): void {
  const home = path.join(dovecot.dir, "mail", account.user);
  const { uid, gid } = statSync(home);
  const name = `${Date.now()}.M${i}P${process.pid}.${os.hostname()}`;
  for (const dir of ["tmp", "new"]) mkdirSync(path.join(home, dir), { recursive: true });
  writeFileSync(path.join(home, "tmp", name), benchMail(i, messageId));
  chownSync(path.join(home, "tmp", name), uid, gid);
  renameSync(path.join(home, "tmp", name), path.join(home, "new", name));
}

/** Waits for a sample taken after now in which at most `dropTo` users have sessions (false if none within 10 s). */
async function sessionsDropped(sampler: SessionSampler, dropTo: number): Promise<boolean> {
  const from = sampler.asked();
  return until("the sessions to drop", () => sampler.asked() > from && sampler.users() <= dropTo, 10_000).then(() => true, () => false);
}

async function allSessionsBack(sampler: SessionSampler, what: string): Promise<number> {
  await until(`${what}: all ${N} sessions back`, () => sampler.users() === N, CONNECT_LIMIT_MS);
  return performance.now();
}

async function waitTicketed(ctx: Context, messageIds: string[], what: string): Promise<{ missing: number; twice: number }> {
  await until(`${what}: every mail ticketed`, async () => (await ticketsPerMessage(ctx, messageIds)).missing === 0, 120_000).catch((err: Error) =>
    console.log(err.message),
  );
  await sleep(2_000); // a second copy would show up by now
  return ticketsPerMessage(ctx, messageIds);
}

async function measureDovecotRestart(ctx: Context, dovecot: DovecotServer, sampler: SessionSampler, accounts: TestAccount[], sent: string[]): Promise<void> {
  await dovecot.kill();
  await sessionsDropped(sampler, 0);
  const outage = Array.from({ length: OUTAGE_MAILS }, (_, i) => newMessageId("outage", i));
  outage.forEach((id, i) => deliverToMaildir(dovecot, pick(accounts), i, id));
  sent.push(...outage);
  await sleep(2_000); // mailgate sees the outage
  await dovecot.restart();
  const restartedAt = performance.now();
  const backAt = await allSessionsBack(sampler, "Dovecot restart");
  await until("all sources connected after the restart", async () => (await connectedSources(ctx)) === N, CONNECT_LIMIT_MS);
  const connectedAt = performance.now();
  const once = await waitTicketed(ctx, outage, "Dovecot restart");
  const lastTicket = performance.now() - restartedAt;
  const ok = connectedAt - restartedAt <= 60_000 && once.missing === 0 && once.twice === 0;
  console.log(`restart: all ${N} sessions ${seconds(backAt - restartedAt)}, all sources connected ${seconds(connectedAt - restartedAt)}, ${OUTAGE_MAILS} outage mails ticketed by ${seconds(lastTicket)} after restart`);
  figure(`Dovecot restart → all ${N} connected`, seconds(connectedAt - restartedAt), "≤ 60 s", connectedAt - restartedAt <= 60_000);
  figure(`  ${OUTAGE_MAILS} outage mails (Maildir): missing / twice`, `${once.missing} / ${once.twice}`, "0 / 0", ok);
}

async function measureInstanceKill(ctx: Context, instances: MailgateProcess[], dovecot: DovecotServer, sampler: SessionSampler, sender: Sender, accounts: TestAccount[], sent: string[]) {
  const held = instances.map((p) => connectionsTo(p.pid, dovecot.port));
  console.log(`kill: connections to Dovecot per instance: ${instances.map((p, k) => `${p.name} ${held[k]}`).join(", ")}`);
  const victim = instances[held.indexOf(Math.max(...held))]!;
  const mails = Array.from({ length: KILL_MAILS }, (_, i) => newMessageId("kill", i));
  sent.push(...mails);
  const appendSome = async (from: number, to: number) => {
    for (let i = from; i < to; i++) await sender.append(1_000_000 + i, pick(accounts), mails[i]!);
  };
  await appendSome(0, KILL_MAILS / 2);
  await victim.kill();
  const killedAt = performance.now();
  const afterKill = appendSome(KILL_MAILS / 2, KILL_MAILS);
  if (!(await sessionsDropped(sampler, N - 1))) console.log("kill: no sample saw the sessions drop");
  const backAt = await allSessionsBack(sampler, "instance kill");
  await afterKill;
  const once = await waitTicketed(ctx, mails, "instance kill");
  const back = backAt - killedAt;
  console.log(`kill: SIGKILL to ${victim.name} (held ${Math.max(...held)}); all ${N} sessions again ${seconds(back)} later`);
  figure(`SIGKILL of the instance holding ${Math.max(...held)} → all ${N} sessions`, seconds(back), "≤ 30 s", back <= 30_000);
  figure(`  ${KILL_MAILS} mails around the kill: missing / twice`, `${once.missing} / ${once.twice}`, "0 / 0", once.missing === 0 && once.twice === 0);
}

/** What Dovecot logged that would mean refused or dropped sessions. */
function dovecotLogSummary(dovecot: DovecotServer): { limits: number; inotify: number; errors: number; disconnected: number } {
  const lines = dovecot.log().split("\n");
  return {
    limits: lines.filter((l) => l.includes("Maximum number of")).length,
    inotify: lines.filter((l) => l.includes("Inotify instance limit")).length,
    errors: lines.filter((l) => / (Error|Fatal|Panic|Warning): /.test(l)).length,
    // Logged-out sessions and the start-up probe's connection are the bench's own goodbyes; what
    // is left are sessions cut off (a killed instance's, for one).
    disconnected: lines.filter((l) => l.includes("Disconnected") && !l.includes("Logged out") && !l.includes("no auth attempts")).length,
  };
}

function printTable(): void {
  const width = Math.max(...figures.map((f) => f.what.length));
  console.log(`\n${"figure".padEnd(width)}  ${"measured".padEnd(24)}  goal`);
  for (const f of figures) {
    const verdict = f.met === null ? "" : f.met ? "  met" : "  NOT met";
    console.log(`${f.what.padEnd(width)}  ${f.value.padEnd(24)}  ${f.goal}${verdict}`);
  }
}

async function main() {
  console.log(`bench:mailboxes — ${N} mailboxes, ${INSTANCES} mailgate instance(s), ${os.cpus().length} CPUs, load ${loadAverage()}`);
  console.log(`limits: ${checkOpenFileLimit()}; ${checkInotifyLimit()}`);
  const dovecot = await startDovecot({ accounts: N, clients: N + 2 * FLOOR_MAILBOXES + 20 });
  const accounts = Array.from({ length: N }, () => dovecot.takeAccount());
  const secretKey = randomBytes(32).toString("hex");
  const { ctx, close } = await benchContext({ LOG_LEVEL: "error", MAILGATE_SECRET_KEY: secretKey, ADMIN_API_TOKEN: TOKEN });
  const instances: MailgateProcess[] = [];
  const sender = startSender();
  let sampler: SessionSampler | null = null;
  const sent: string[] = [];
  try {
    console.log(`setup: ${N} sources created through POST /api/sources in ${seconds(await createSources(ctx, dovecot, accounts))}`);
    await sender.run({ type: "init", host: dovecot.host, port: dovecot.port });
    sampler = sampleSessions(path.join(dovecot.dir, "dovecot.conf"));
    const env = { DATABASE_URL: ctx.config.databaseUrl!, MAILGATE_SECRET_KEY: secretKey, ADMIN_API_TOKEN: TOKEN, MAILGATE_ROLES: "sources,worker" };
    const spawnedAt = performance.now();
    for (let k = 0; k < INSTANCES; k++) instances.push(await startMailgateProcess(`mailboxes-${k}`, env));

    const rssAtFirstSession = await measureConnect(ctx, instances, sampler, spawnedAt, findProcess(`-F -c ${path.join(dovecot.dir, "dovecot.conf")}`));
    await measureIdle(instances, rssAtFirstSession);
    await measureLatency(ctx, sender, accounts, sent);
    await measureDovecotRestart(ctx, dovecot, sampler, accounts, sent);
    if (INSTANCES > 1) await measureInstanceKill(ctx, instances, dovecot, sampler, sender, accounts, sent);

    const all = await ticketsPerMessage(ctx, sent);
    const most = sampler.most();
    figure(`all ${sent.length} mails of the run: missing / twice`, `${all.missing} / ${all.twice}`, "0 / 0", all.missing === 0 && all.twice === 0);
    figure(`most sessions of one mailbox (${sampler.samples()} samples)`, `${most.sessions}${most.sessions > 1 ? ` (${most.user})` : ""}`, "1 (never held twice)", most.sessions <= 1);
    const log = dovecotLogSummary(dovecot);
    figure("Dovecot log: \"Maximum number of\" / errors+warnings / sessions cut off", `${log.limits} / ${log.errors} / ${log.disconnected}`, "0 refused logins", log.limits === 0);
    figure("  of the warnings, inotify limit (IDLE polls every 30 s)", `${log.inotify}`, "0", log.inotify === 0);
    printTable();
    console.log(`\nload at the end: ${loadAverage()}`);
  } catch (err) {
    const kept = path.join(os.tmpdir(), `bench-mailboxes-dovecot-${Date.now()}.log`);
    copyFileSync(path.join(dovecot.dir, "dovecot.log"), kept);
    console.error(`Dovecot's log is kept in ${kept}`);
    for (const p of instances) console.error(`--- ${p.name} (pid ${p.pid}, ${p.exit() ?? "running"}) ---\n${p.output().slice(-3000)}`);
    throw err;
  } finally {
    await sampler?.stop();
    sender.stop();
    await Promise.all(instances.map((p) => p.stop()));
    await close();
    await dovecot.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
