// Debian's Postfix as the sending server: a private instance relays msp.example to mailgate's
// SMTP listener, as an MSP's own relay would (docs/smtp-listener.md, "Postfix relay or
// transport"). What Postfix accepted reaches a ticket; while mailgate's database is away Postfix
// is answered 451, keeps the mail in its queue, and delivers it once the database is back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nodemailer from "nodemailer";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, drainPipeline } from "../../helpers/pipeline.ts";
import { waitFor } from "../../helpers/wait-for.ts";
import { findPostfix, startPostfixRelay, type PostfixRelay } from "../../fakes/postfix/postfix-relay.ts";
import { createOutageContext, type Outage } from "../ops/database-outage.ts";
import { startSmtpListener, type SmtpListener } from "../../../src/sources/smtp/smtp-listener.ts";

describe.skipIf(findPostfix() === null)("Postfix relaying to the SMTP listener", () => {
  let outage: Outage;
  let listener: SmtpListener;
  let relay: PostfixRelay;
  let sourceId: string;

  const viaPostfix = async (raw: Buffer) => {
    const transport = nodemailer.createTransport({ host: relay.host, port: relay.port, secure: false, tls: { rejectUnauthorized: false } });
    try {
      return await transport.sendMail({ envelope: { from: "john@acme.example", to: ["support@msp.example"] }, raw });
    } finally {
      transport.close();
    }
  };
  const stored = async () => (await outage.t.api.get(`/api/inbound-messages?sourceId=${sourceId}`).expect(200)).body.items as { id: string; messageId: string; envelope: unknown }[];

  beforeAll(async () => {
    outage = await createOutageContext({ SMTP_LISTEN: "127.0.0.1:0" });
    await createCompany(outage.t, "Acme", ["acme.example"]);
    sourceId = (await outage.t.api.post("/api/sources").send({ kind: "smtp", name: "Relayed", address: "support@msp.example", role: "system" }).expect(201)).body.id;
    listener = await startSmtpListener(outage.t.ctx, outage.t.config.smtpListener!);
    relay = await startPostfixRelay({ domain: "msp.example", to: { host: "127.0.0.1", port: listener.port } });
  });
  afterAll(async () => {
    relay?.stop();
    await listener?.stop();
    await outage?.close();
  });

  it("When Postfix relays a mail for the domain, then mailgate stores it with Postfix's envelope and it becomes a ticket", async () => {
    const accepted = await viaPostfix(buildEmail({ from: "john@acme.example", to: "support@msp.example", subject: "Relayed by Postfix", messageId: "<postfix-1@acme.example>" }));
    expect(accepted.response).toMatch(/^250 .*queued as/);
    await waitFor(async () => (await stored()).some((m) => m.messageId === "postfix-1@acme.example"), 15_000);
    const [message] = (await stored()).filter((m) => m.messageId === "postfix-1@acme.example");
    expect(message!.envelope).toMatchObject({ mailFrom: "john@acme.example", rcptTo: ["support@msp.example"], helo: "relay.test", tls: true, authUser: null });
    await drainPipeline(outage.t);
    expect((await outage.t.api.get(`/api/inbound-messages/${message!.id}`).expect(200)).body.status).toBe("ticket_created");
  });

  it("When mailgate's database is away, then Postfix is answered 451, keeps the mail, and delivers it once the database is back", async () => {
    if (!outage.canRestart) return; // an embedded PGlite cannot come back once closed
    await outage.stopDatabase();
    await viaPostfix(buildEmail({ to: "support@msp.example", subject: "During the outage", messageId: "<postfix-2@acme.example>" }));
    await waitFor(() => /status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 451 /.test(relay.log()), 15_000);
    await outage.startDatabase();
    relay.flush();
    await waitFor(async () => (await stored()).some((m) => m.messageId === "postfix-2@acme.example"), 20_000);
    expect((await stored()).filter((m) => m.messageId === "postfix-2@acme.example")).toHaveLength(1);
  });
});
