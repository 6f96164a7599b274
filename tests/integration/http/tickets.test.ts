import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachmentBlobs, attachments, companies, ticketMessages, tickets } from "../../../src/db/schema.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

const MISSING = "00000000-0000-4000-8000-000000000000";
let clock = Date.parse("2026-03-01T09:00:00.000Z");
const nextTime = () => new Date((clock += 60_000));

async function insertCompany(name: string) {
  const [row] = await t.ctx.db.insert(companies).values({ name }).returning();
  return row!;
}

async function insertTicket(fields: Partial<typeof tickets.$inferInsert> = {}) {
  const at = nextTime();
  const [row] = await t.ctx.db
    .insert(tickets)
    .values({ subject: "Printer on fire", priority: "normal", jobType: "Support Request", createdAt: at, updatedAt: at, ...fields })
    .returning();
  return row!;
}

async function insertMessage(ticketId: string, fields: Partial<typeof ticketMessages.$inferInsert> = {}) {
  const [row] = await t.ctx.db
    .insert(ticketMessages)
    .values({
      ticketId,
      kind: "initial",
      fromAddress: "alice@customer.example",
      fromName: "Alice",
      to: [{ address: "support@example.com", name: "" }],
      subject: "Printer on fire",
      text: "It is smoking.",
      messageId: `<${Math.random().toString(36).slice(2)}@customer.example>`,
      receivedAt: nextTime(),
      ...fields,
    })
    .returning();
  return row!;
}

async function insertAttachment(ticketMessageId: string, filename: string, content: Buffer, contentType = "application/pdf") {
  const sha256 = createHash("sha256").update(content).digest("hex");
  await t.ctx.db.insert(attachmentBlobs).values({ sha256, size: content.length, content }).onConflictDoNothing();
  const [row] = await t.ctx.db
    .insert(attachments)
    .values({ ticketMessageId, filename, contentType, size: content.length, sha256 })
    .returning();
  return row!;
}

describe("GET /api/tickets/:id", () => {
  it("shows a ticket with its messages oldest first, each with its attachments", async () => {
    const ticket = await insertTicket({ subject: "VPN down", priority: "high" });
    const reply = await insertMessage(ticket.id, { kind: "reply", receivedAt: new Date("2026-04-02T10:00:00Z"), subject: "Re: VPN down" });
    const initial = await insertMessage(ticket.id, {
      receivedAt: new Date("2026-04-01T10:00:00Z"),
      subject: "VPN down",
      skippedAttachments: [{ filename: "big.iso", contentType: "application/octet-stream", size: 99, reason: "too_large" }],
    });
    const log = await insertAttachment(initial.id, "vpn.log", Buffer.from("connection refused"), "text/plain");
    const shot = await insertAttachment(reply.id, "screen.png", Buffer.from([0x89, 0x50, 0x4e, 0x47]), "image/png");

    const res = await t.api.get(`/api/tickets/${ticket.id}`).expect(200);
    expect(res.body).toMatchObject({
      id: ticket.id,
      number: ticket.number,
      subject: "VPN down",
      status: "open",
      priority: "high",
      jobType: "Support Request",
      companyId: null,
      contactId: null,
      assigneeId: null,
      sourceId: null,
      unmapped: false,
    });
    expect(res.body.messages.map((m: { id: string }) => m.id)).toEqual([initial.id, reply.id]);
    expect(res.body.messages[0]).toMatchObject({
      kind: "initial",
      from: "alice@customer.example",
      fromName: "Alice",
      to: [{ address: "support@example.com", name: "" }],
      cc: [],
      text: "It is smoking.",
      html: null,
      receivedAt: "2026-04-01T10:00:00.000Z",
      skippedAttachments: [{ filename: "big.iso", reason: "too_large" }],
      attachments: [
        { id: log.id, filename: "vpn.log", originalFilename: null, contentType: "text/plain", size: 18, sha256: log.sha256, contentId: null, inline: false },
      ],
    });
    expect(res.body.messages[1].attachments).toEqual([
      { id: shot.id, filename: "screen.png", originalFilename: null, contentType: "image/png", size: 4, sha256: shot.sha256, contentId: null, inline: false },
    ]);
  });

  it("shows a ticket without messages with an empty list", async () => {
    const ticket = await insertTicket();
    const res = await t.api.get(`/api/tickets/${ticket.id}`).expect(200);
    expect(res.body.messages).toEqual([]);
  });

  it("answers 404 for a ticket that does not exist or a malformed id, and 401 without the token", async () => {
    await t.api.get(`/api/tickets/${MISSING}`).expect(404);
    await t.api.get("/api/tickets/1234").expect(404);
    await t.anonymous.get(`/api/tickets/${MISSING}`).expect(401);
  });
});

describe("GET /api/tickets", () => {
  it("filters by company, status and unmapped, newest first, page by page", async () => {
    const acme = await insertCompany("Acme");
    const globex = await insertCompany("Globex");
    const open = await insertTicket({ companyId: acme.id, subject: "one" });
    const closed = await insertTicket({ companyId: acme.id, subject: "two", status: "closed" });
    const unmapped = await insertTicket({ companyId: acme.id, subject: "three", unmapped: true });
    await insertTicket({ companyId: globex.id });

    const all = await t.api.get(`/api/tickets?companyId=${acme.id}`).expect(200);
    expect(all.body.items.map((x: { id: string }) => x.id)).toEqual([unmapped.id, closed.id, open.id]);
    expect(all.body.items[0]).not.toHaveProperty("messages");

    const closedOnly = await t.api.get(`/api/tickets?companyId=${acme.id}&status=closed`).expect(200);
    expect(closedOnly.body.items.map((x: { id: string }) => x.id)).toEqual([closed.id]);
    const unmappedOnly = await t.api.get(`/api/tickets?companyId=${acme.id}&unmapped=true`).expect(200);
    expect(unmappedOnly.body.items.map((x: { id: string }) => x.id)).toEqual([unmapped.id]);
    const mapped = await t.api.get(`/api/tickets?companyId=${acme.id}&unmapped=false&status=`).expect(200);
    expect(mapped.body.items).toHaveLength(2);

    const first = await t.api.get(`/api/tickets?companyId=${acme.id}&limit=2`).expect(200);
    expect(first.body.items).toHaveLength(2);
    const rest = await t.api.get(`/api/tickets?companyId=${acme.id}&limit=2&cursor=${first.body.nextCursor}`).expect(200);
    expect(rest.body).toEqual({ items: [expect.objectContaining({ id: open.id })], nextCursor: null });
  });

  it("rejects bad filters and unknown query parameters, naming them", async () => {
    const res = await t.api.get("/api/tickets?status=pending&companyId=acme&unmapped=yes&stauts=open").expect(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["companyId", "status", "stauts", "unmapped"]);
    const limit = await t.api.get("/api/tickets?limit=501").expect(400);
    expect(limit.body.error.details[0].field).toBe("limit");
  });

  it("answers 401 without the token", async () => {
    await t.anonymous.get("/api/tickets").expect(401);
  });
});

describe("GET /api/attachments/:id/content", () => {
  it("serves the bytes with their type, as a download that is never sniffed", async () => {
    const ticket = await insertTicket();
    const message = await insertMessage(ticket.id);
    const bytes = Buffer.from("%PDF-1.4 binary \x00\x01\x02", "latin1");
    const file = await insertAttachment(message.id, "invoice 2026.pdf", bytes);
    const res = await t.api
      .get(`/api/attachments/${file.id}/content`)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(res.body).toEqual(bytes);
    expect(res.headers["content-type"]).toBe("application/pdf");
    expect(res.headers["content-disposition"]).toBe('attachment; filename="invoice 2026.pdf"');
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("encodes a non-ASCII filename per RFC 5987 with an ASCII fallback", async () => {
    const ticket = await insertTicket();
    const message = await insertMessage(ticket.id);
    const file = await insertAttachment(message.id, "Angebot «Müller» (1).pdf", Buffer.from("x"));
    const res = await t.api.get(`/api/attachments/${file.id}/content`).expect(200);
    expect(res.headers["content-disposition"]).toBe(
      "attachment; filename=\"Angebot _M_ller_ (1).pdf\"; filename*=UTF-8''Angebot%20%C2%ABM%C3%BCller%C2%BB%20%281%29.pdf",
    );
  });

  it("serves a malformed stored content type as application/octet-stream", async () => {
    const ticket = await insertTicket();
    const message = await insertMessage(ticket.id);
    const file = await insertAttachment(message.id, "x.bin", Buffer.from("x"), "text/html\r\nSet-Cookie: a=b");
    const res = await t.api.get(`/api/attachments/${file.id}/content`).expect(200);
    expect(res.headers["content-type"]).toBe("application/octet-stream");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("answers 404 for an attachment that does not exist, and 401 without the token", async () => {
    await t.api.get(`/api/attachments/${MISSING}/content`).expect(404);
    await t.api.get("/api/attachments/x/content").expect(404);
    await t.anonymous.get(`/api/attachments/${MISSING}/content`).expect(401);
  });
});
