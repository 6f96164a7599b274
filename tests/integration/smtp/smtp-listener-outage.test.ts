// While the database cannot be reached the listener takes nothing it could lose: DATA is answered
// 451, so the sending server keeps the mail and retries; once the database is back the same mail
// is answered 250 and stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEmail } from "../../helpers/build-email.ts";
import { createOutageContext, type Outage } from "../ops/database-outage.ts";
import { parseExposition, samplesOf } from "../ops/exposition.ts";
import { startSmtpListener, type SmtpListener } from "../../../src/sources/smtp/smtp-listener.ts";
import { sendRaw } from "./smtp-client.ts";

let outage: Outage;
let listener: SmtpListener;
let sourceId: string;

beforeAll(async () => {
  outage = await createOutageContext({ SMTP_LISTEN: "127.0.0.1:0" });
  sourceId = (await outage.t.api.post("/api/sources").send({ kind: "smtp", name: "Support", address: "support@msp.example", role: "system" }).expect(201)).body.id;
  listener = await startSmtpListener(outage.t.ctx, outage.t.config.smtpListener!);
});
afterAll(async () => {
  await listener?.stop();
  await outage?.close();
});

const mail = { from: "john@acme.example", to: ["support@msp.example"], raw: buildEmail({ to: "support@msp.example", subject: "During the outage", messageId: "<outage@acme.example>" }) };

describe("the SMTP listener while the database is away", () => {
  it("When the database stops, then DATA is answered 451 so the sender retries", async () => {
    await outage.stopDatabase();
    const sent = await sendRaw(listener.port, mail);
    expect(sent).toMatchObject({ ok: false, responseCode: 451, command: "DATA" });
    const metrics = parseExposition((await outage.t.anonymous.get("/metrics").expect(200)).text);
    expect(samplesOf(metrics, "mailgate_smtp_refusals_total", { reason: "database_unavailable" })[0]?.value).toBe(1);
    expect(samplesOf(metrics, "mailgate_smtp_messages_accepted_total")[0]?.value).toBe(0);
  });

  it("When the database comes back, then the retried mail is answered 250 and stored once", async () => {
    if (!outage.canRestart) return; // an embedded PGlite closed for the previous test stays closed
    await outage.startDatabase();
    expect(await sendRaw(listener.port, mail)).toMatchObject({ ok: true });
    const list = (await outage.t.api.get(`/api/inbound-messages?sourceId=${sourceId}`).expect(200)).body.items;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ messageId: "outage@acme.example", status: "received" });
  });
});
