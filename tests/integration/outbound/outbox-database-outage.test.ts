// The database goes away while mail is on the wire: the SMTP server accepts it, but the outcome
// cannot be written. The outbox keeps the outcome and writes it once the database is back (its
// claims' leases still hold), instead of dropping it and sending the mail again when the leases
// run out. Real Postgres behind a TCP proxy the test can cut; PGlite runs in the process.
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboundMessages } from "../../../src/db/schema.ts";
import { startOutboxSender } from "../../../src/outbound/outbox-sender.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { giveSmtpBlock } from "../../helpers/smtp-block.ts";
import { startFakeSmtp, type FakeSmtp } from "../../fakes/smtp/smtp-server.ts";
import { createTestContext, createTestDatabase, type TestContext, usingPostgres } from "../../helpers/test-context.ts";
import { waitFor } from "../../helpers/wait-for.ts";
import { startCuttableProxy } from "../../helpers/cuttable-proxy.ts";

describe.runIf(usingPostgres())("the outbox when the database goes away mid-send", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: Awaited<ReturnType<typeof startCuttableProxy>>;
  let t: TestContext;
  let smtp: FakeSmtp;
  let sourceId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startCuttableProxy(new URL(database.url!));
    t = await createTestContext({ databaseUrl: proxy.url });
    smtp = await startFakeSmtp({ plain: true });
    await createCompany(t, "Acme", ["acme.com"]);
    sourceId = await createSource(t, { name: "MSP Support" });
    await giveSmtpBlock(t, sourceId, smtp);
  });

  afterAll(async () => {
    proxy?.restore();
    await smtp?.close();
    await t?.close();
    proxy?.close();
    await database?.drop();
  });

  it("When the outcomes of accepted mail cannot be written, then they are written once the database is back, and nothing is sent twice", async () => {
    const ids: string[] = [];
    for (const who of ["ann", "bob", "cid", "dan"]) {
      const inbound = await deliver(t, sourceId, buildEmail({ from: `${who}@acme.com`, subject: `Outage ${who}` }));
      ids.push((await t.api.post(`/api/tickets/${inbound.ticketId}/replies`).send({ text: "On it." }).expect(202)).body.id as string);
    }
    smtp.delayData(1500);
    const sender = startOutboxSender(t.ctx);
    t.ctx.database.wake("outbound");
    const rowsOf = () => t.ctx.db.select().from(outboundMessages).where(inArray(outboundMessages.id, ids));
    await waitFor(async () => (await rowsOf()).every((r) => r.status === "sending"));

    // Cut while the four are in DATA; the server accepts them while the database is away.
    proxy.cut();
    await waitFor(() => smtp.received.length === 4, 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    proxy.restore();

    await waitFor(async () => (await rowsOf()).every((r) => r.status === "sent"), 20_000);
    await sender.stop();
    expect(smtp.received).toHaveLength(4);
    expect((await rowsOf()).map((r) => r.attempts)).toEqual([1, 1, 1, 1]);
  });
});
