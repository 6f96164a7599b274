// The SMTP listener's metrics as GET /metrics shows them: connections open, accepted and refused;
// messages accepted and the DATA → 250 histogram; refusals by reason (unknown recipient, auth,
// size, limit, a client outside SMTP_ALLOW_FROM). The database's own (451) is in the outage test.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEmail } from "../../helpers/build-email.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { parseExposition, samplesOf } from "../ops/exposition.ts";
import { startSmtpListener, type SmtpListener } from "../../../src/sources/smtp/smtp-listener.ts";
import { openDialog, sendRaw } from "./smtp-client.ts";

const LIMIT = 32 * 1024;
let t: TestContext;
let listener: SmtpListener;

beforeAll(async () => {
  t = await createTestContext({ env: { SMTP_LISTEN: "127.0.0.1:0", MAX_MESSAGE_BYTES: String(LIMIT), SMTP_MAX_RECIPIENTS: "2" } });
  await t.api.post("/api/sources").send({ kind: "smtp", role: "system", name: "Support", address: "support@msp.example", addresses: ["help@msp.example", "sales@msp.example"] }).expect(201);
  await t.api.post("/api/sources").send({ kind: "smtp", role: "system", name: "Relayed", address: "relayed@msp.example", config: { auth: { user: "relay", password: "relay-password-1" } } }).expect(201);
  listener = await startSmtpListener(t.ctx, t.config.smtpListener!);
});
afterAll(async () => {
  await listener?.stop();
  await t?.close();
});

const scrape = async () => parseExposition((await t.anonymous.get("/metrics").expect(200)).text);
const value = async (name: string, labels: Record<string, string> = {}) => samplesOf(await scrape(), name, labels)[0]?.value;
const refusals = (reason: string) => value("mailgate_smtp_refusals_total", { reason });
/** The first line a new connection is answered (the greeting, or a refusal). */
const firstReply = (port: number) =>
  new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("data", (d) => {
      resolve(d.toString());
      socket.destroy();
    });
    socket.once("error", reject);
  });
const mail = (subject: string, to = "support@msp.example") => ({ from: "john@acme.example", to: [to], raw: buildEmail({ to, subject }) });

describe("the SMTP listener's metrics", () => {
  it("When nothing has happened yet, then every series is there at zero", async () => {
    for (const reason of ["unknown_recipient", "auth", "disabled", "size", "database_unavailable", "limit", "client_not_allowed"]) expect(await refusals(reason)).toBe(0);
    expect(await value("mailgate_smtp_messages_accepted_total")).toBe(0);
    expect(await value("mailgate_smtp_connections_total", { outcome: "refused" })).toBe(0);
    expect(await value("mailgate_smtp_connections")).toBe(0);
  });

  it("When a message is accepted, then it is counted with its DATA → 250 time, and its connection as accepted", async () => {
    expect(await sendRaw(listener.port, mail("Counted"))).toMatchObject({ ok: true });
    expect(await value("mailgate_smtp_messages_accepted_total")).toBe(1);
    expect(await value("mailgate_smtp_data_duration_seconds_count")).toBe(1);
    expect(await value("mailgate_smtp_data_duration_seconds_sum")).toBeGreaterThan(0);
    expect(await value("mailgate_smtp_connections_total", { outcome: "accepted" })).toBeGreaterThanOrEqual(1);
  });

  it("When recipients are unknown, need AUTH or are too many, and a message is too big, then each refusal is counted under its reason", async () => {
    expect(await sendRaw(listener.port, mail("Nobody", "nobody@msp.example"))).toMatchObject({ ok: false, responseCode: 550 });
    expect(await refusals("unknown_recipient")).toBe(1);
    expect(await sendRaw(listener.port, mail("No login", "relayed@msp.example"))).toMatchObject({ ok: false, responseCode: 530 });
    expect(await sendRaw(listener.port, mail("Bad login", "relayed@msp.example"), { auth: { user: "relay", pass: "wrong-password" } })).toMatchObject({ ok: false, responseCode: 535 });
    expect(await refusals("auth")).toBe(2);
    const big = { from: "john@acme.example", to: ["support@msp.example"], raw: buildEmail({ to: "support@msp.example", subject: "Big", text: "x".repeat(LIMIT * 2) }) };
    expect(await sendRaw(listener.port, big)).toMatchObject({ ok: false, responseCode: 552 });
    expect(await refusals("size")).toBe(1);

    const dialog = await openDialog(listener.port);
    await dialog.say("EHLO client.example");
    await dialog.say("MAIL FROM:<john@acme.example>");
    for (const to of ["support@msp.example", "help@msp.example"]) expect(await dialog.say(`RCPT TO:<${to}>`)).toMatch(/^250/);
    expect(await dialog.say("RCPT TO:<sales@msp.example>")).toMatch(/^452/);
    expect(await refusals("limit")).toBe(1);
    await dialog.say("QUIT");
    expect(await value("mailgate_smtp_messages_accepted_total")).toBe(1);
  });

  it("When a connection stays open, then the gauge counts it until it closes", async () => {
    const dialog = await openDialog(listener.port);
    expect(await value("mailgate_smtp_connections")).toBe(1);
    dialog.cut();
    await dialog.closed;
    await expect.poll(() => value("mailgate_smtp_connections")).toBe(0);
  });

  it("When a client is outside SMTP_ALLOW_FROM, or one more than SMTP_MAX_CLIENTS connects, then the connection is counted as refused with its reason", async () => {
    const guarded = await startSmtpListener(t.ctx, { ...t.config.smtpListener!, port: 0, allowFrom: ["192.0.2.0/24"] });
    const small = await startSmtpListener(t.ctx, { ...t.config.smtpListener!, port: 0, maxClients: 1 });
    try {
      expect(await sendRaw(guarded.port, mail("Not allowed"))).toMatchObject({ ok: false, responseCode: 554 });
      expect(await refusals("client_not_allowed")).toBe(1);
      const holder = await openDialog(small.port);
      expect(await firstReply(small.port)).toMatch(/^421 /);
      expect(await refusals("limit")).toBe(2);
      expect(await value("mailgate_smtp_connections_total", { outcome: "refused" })).toBe(2);
      holder.cut();
    } finally {
      await guarded.stop();
      await small.stop();
    }
  });
});
