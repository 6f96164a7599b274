// The same mail posted by a mail service and also read from the mailbox by IMAP (a forward that
// keeps a copy) is one ticket: the second copy is a duplicate by its normalised Message-ID.
import { afterAll, beforeAll, expect, it } from "vitest";
import { imapSourceOf } from "../../../src/sources/imap/imap-source.ts";
import { startImapSupervisor, type ImapSupervisor } from "../../../src/sources/imap/imap-supervisor.ts";
import { describeWithDovecot } from "../../fakes/dovecot/describe-with-dovecot.ts";
import { startDovecot, type DovecotServer } from "../../fakes/dovecot/dovecot-server.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { drainPipeline } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { inboundOf, insertAcme, insertImapSource, newMailboxUser, sourceRow, waitFor } from "../imap/imap-fixture.ts";
import { mailgunSignature, multipartForm } from "./provider-requests.ts";

const SIGNING_KEY = "key-mailgun-test-0123456789abcdef";

describeWithDovecot("one mail through a mail service and IMAP", () => {
  let dovecot: DovecotServer;
  let t: TestContext;
  let supervisor: ImapSupervisor | null = null;

  beforeAll(async () => {
    dovecot = await startDovecot();
    t = await createTestContext();
    await insertAcme(t.ctx);
  });
  afterAll(async () => {
    await supervisor?.stop();
    await t?.close();
    await dovecot?.stop();
  });

  it("When Mailgun posts a mail that IMAP also reads from the mailbox, then one ticket is made and the other copy is a duplicate of it", async () => {
    const account = newMailboxUser(dovecot);
    const imapId = await insertImapSource(t.ctx, dovecot, account);
    const config = { provider: "mailgun", signingKey: SIGNING_KEY };
    const webhookId = (await t.api.post("/api/sources").send({ kind: "inbound-webhook", name: "Mailgun", address: "forward@mailgate.test", role: "system", config }).expect(201)).body.id;
    // The forwarded copy differs in its bytes (a header added on the way) but keeps the Message-ID.
    const original = buildEmail({ subject: "Server down", messageId: "<Server-Down-1@ACME.com>" });
    const forwarded = Buffer.concat([Buffer.from("X-Forwarded-For: support@acme.com\r\n"), original]);

    const form = multipartForm({ ...mailgunSignature(SIGNING_KEY, t.ctx.clock.now()), "body-mime": forwarded });
    const posted = await t.anonymous.post(`/push/inbound/${webhookId}/mailgun/mime`).set("Content-Type", form.contentType).send(form.body).expect(200);
    await drainPipeline(t);

    supervisor = startImapSupervisor(t.ctx, imapSourceOf(t.ctx, await sourceRow(t.ctx, imapId)));
    const mail = await dovecot.connect(account.user, account.password);
    await mail.append("INBOX", original);
    await mail.logout();
    const [fromImap] = await waitFor("the IMAP copy", async () => {
      const rows = await inboundOf(t.ctx, imapId);
      return rows.length > 0 && rows;
    });
    await drainPipeline(t);

    const viaWebhook = (await t.api.get(`/api/inbound-messages/${posted.body.id}`).expect(200)).body;
    const viaImap = (await t.api.get(`/api/inbound-messages/${fromImap!.id}`).expect(200)).body;
    expect(viaWebhook.status).toBe("ticket_created");
    expect(viaImap).toMatchObject({ status: "duplicate", ticketId: viaWebhook.ticketId });
  });
});
