import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inboundMessages, mailSources, tickets } from "../../../src/db/schema.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

const MISSING = "00000000-0000-4000-8000-000000000000";
let clock = Date.parse("2026-03-01T09:00:00.000Z");
let sequence = 0;

async function insertSource(name = "Support") {
  const [row] = await t.ctx.db
    .insert(mailSources)
    .values({ kind: "api", name, address: `${name.toLowerCase()}@example.com`, role: "system", status: "connected" })
    .returning();
  return row!;
}

const RAW = Buffer.from("From: alice@customer.example\r\nTo: support@example.com\r\nSubject: Help\r\n\r\nIt broke.\r\n");

async function insertInbound(sourceId: string | null, fields: Partial<typeof inboundMessages.$inferInsert> = {}) {
  const raw = fields.raw === undefined ? RAW : fields.raw;
  const at = new Date((clock += 60_000));
  const [row] = await t.ctx.db
    .insert(inboundMessages)
    .values({
      sourceId,
      providerMessageId: `provider-${++sequence}`,
      raw,
      rawSize: RAW.length,
      rawSha256: createHash("sha256").update(RAW).digest("hex"),
      receivedAt: at,
      createdAt: at,
      ...fields,
    })
    .returning();
  return row!;
}

const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((m) => m.id);

describe("GET /api/inbound-messages", () => {
  it("lists messages newest first, filtered by status and source, without their raw bytes", async () => {
    const support = await insertSource("Support");
    const sales = await insertSource("Sales");
    const [ticket] = await t.ctx.db.insert(tickets).values({ subject: "Help", priority: "normal", jobType: "Support Request" }).returning();
    const created = await insertInbound(support.id, {
      status: "ticket_created",
      ticketId: ticket!.id,
      messageId: "abc@customer.example",
      fromAddress: "alice@customer.example",
      subject: "Help",
      attempts: 1,
      processedAt: new Date(clock + 1000),
    });
    const failed = await insertInbound(support.id, { status: "failed", error: "parse error: no headers", attempts: 3 });
    const other = await insertInbound(sales.id, { status: "ignored", reason: "auto_reply" });

    const all = await t.api.get("/api/inbound-messages").expect(200);
    expect(ids(all)).toEqual([other.id, failed.id, created.id]);
    expect(all.text).not.toContain("It broke.");
    expect(all.body.items[2]).toMatchObject({
      id: created.id,
      sourceId: support.id,
      providerMessageId: created.providerMessageId,
      status: "ticket_created",
      reason: null,
      error: null,
      attempts: 1,
      messageId: "abc@customer.example",
      fromAddress: "alice@customer.example",
      subject: "Help",
      ticketId: ticket!.id,
      duplicateOf: null,
      rawSize: RAW.length,
      hasRaw: true,
      receivedAt: created.receivedAt.toISOString(),
      createdAt: created.createdAt.toISOString(),
    });
    expect(all.body.items[2]).not.toHaveProperty("raw");

    expect(ids(await t.api.get("/api/inbound-messages?status=failed").expect(200))).toEqual([failed.id]);
    expect(ids(await t.api.get(`/api/inbound-messages?sourceId=${support.id}`).expect(200))).toEqual([failed.id, created.id]);
    expect(ids(await t.api.get(`/api/inbound-messages?sourceId=${sales.id}&status=failed`).expect(200))).toEqual([]);

    const page = await t.api.get(`/api/inbound-messages?sourceId=${support.id}&limit=1`).expect(200);
    expect(ids(page)).toEqual([failed.id]);
    const next = await t.api.get(`/api/inbound-messages?sourceId=${support.id}&limit=1&cursor=${page.body.nextCursor}`).expect(200);
    expect(next.body).toMatchObject({ items: [{ id: created.id }], nextCursor: null });
  });

  it("rejects a status that does not exist, a malformed source id and unknown parameters, naming them", async () => {
    const res = await t.api.get("/api/inbound-messages?status=done&sourceId=abc&colour=red").expect(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["colour", "sourceId", "status"]);
    expect(res.body.error.message).toMatch(/ticket_created/);
  });

  it("answers 401 without the token", async () => {
    await t.anonymous.get("/api/inbound-messages").expect(401);
  });
});

describe("GET /api/inbound-messages/:id", () => {
  it("shows one message without its raw bytes", async () => {
    const source = await insertSource("Detail");
    const message = await insertInbound(source.id, { status: "duplicate", duplicateOf: MISSING });
    const res = await t.api.get(`/api/inbound-messages/${message.id}`).expect(200);
    expect(res.body).toMatchObject({ id: message.id, status: "duplicate", duplicateOf: MISSING, hasRaw: true });
    expect(res.body).not.toHaveProperty("raw");
  });

  it("answers 404 for a message that does not exist or a malformed id", async () => {
    await t.api.get(`/api/inbound-messages/${MISSING}`).expect(404);
    await t.api.get("/api/inbound-messages/42").expect(404);
  });
});

describe("GET /api/inbound-messages/:id/raw", () => {
  it("serves the raw email as message/rfc822, byte for byte", async () => {
    const source = await insertSource("Raw");
    const bytes = Buffer.concat([RAW, Buffer.from([0xff, 0x00, 0xfe])]);
    const message = await insertInbound(source.id, { raw: bytes, rawSize: bytes.length });
    const res = await t.api
      .get(`/api/inbound-messages/${message.id}/raw`)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(res.headers["content-type"]).toBe("message/rfc822");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.body).toEqual(bytes);
  });

  it("answers 410 raw_purged once retention removed the bytes", async () => {
    const source = await insertSource("Purged");
    const message = await insertInbound(source.id, { raw: null, rawPurgedAt: new Date(), status: "ticket_created" });
    const res = await t.api.get(`/api/inbound-messages/${message.id}/raw`).expect(410);
    expect(res.body.error.code).toBe("raw_purged");
    const detail = await t.api.get(`/api/inbound-messages/${message.id}`).expect(200);
    expect(detail.body.hasRaw).toBe(false);
  });

  it("answers 404 for a message that does not exist, and 401 without the token", async () => {
    await t.api.get(`/api/inbound-messages/${MISSING}/raw`).expect(404);
    await t.anonymous.get(`/api/inbound-messages/${MISSING}/raw`).expect(401);
  });
});
