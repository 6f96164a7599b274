// The outbox through a Gmail source on the fake Google: replies go out with messages.send, Bcc
// reaches Gmail in a header (it reads recipients from there), and a later reply on the ticket
// joins the Gmail thread the first one was filed in.
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendNext } from "../../../src/outbound/outbox-sender.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createSource, deliver } from "../../helpers/pipeline.ts";
import { startGmailFixture, type GmailFixture } from "../gmail/gmail-fixture.ts";

let f: GmailFixture;
beforeAll(async () => {
  f = await startGmailFixture();
});
afterAll(async () => f.close());

describe("replies through a Gmail source", () => {
  it("are sent with messages.send, Bcc in a header, and the second joins the first one's Gmail thread", async () => {
    const intake = await createSource(f.t, { address: "intake@mailgate.test" });
    const inbound = await deliver(f.t, intake, buildEmail({ from: "john@acme.com", to: "intake@mailgate.test", subject: "Printer" }));
    const reply = (text: string) =>
      f.t.api.post(`/api/tickets/${inbound.ticketId}/replies`).send({ text, bcc: ["audit@msp.example"], sourceId: f.sourceId }).expect(202);

    const first = (await reply("First.")).body;
    expect(await sendNext(f.t.ctx)).toBe(true);
    expect((await f.t.api.get(`/api/outbound-messages/${first.id}`).expect(200)).body).toMatchObject({ status: "sent", providerMessageId: f.google.sent[0]!.id });
    const raw = f.google.sent[0]!.raw;
    expect((await simpleParser(raw)).bcc).toMatchObject({ value: [{ address: "audit@msp.example" }] });

    await reply("Second.");
    expect(await sendNext(f.t.ctx)).toBe(true);
    expect(f.google.sent).toHaveLength(2);
    expect(f.google.sent[1]!.threadId).toBe(f.google.sent[0]!.threadId);
  });
});
