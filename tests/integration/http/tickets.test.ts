import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachmentBlobs, attachments, companies, mailSources, ticketMessages, tickets } from "../../../src/db/schema.ts";
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

async function insertSource(name: string) {
  const [row] = await t.ctx.db.insert(mailSources).values({ kind: "api", name, address: `${name.toLowerCase()}@msp.example`, role: "system" }).returning();
  return row!;
}

const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((x) => x.id);

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
      inboundMessageId: null,
      direction: "inbound",
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

  it("When tickets are filtered by source and by a time window, then only that source's tickets created inside the window are listed, the end excluded", async () => {
    const desk = await insertSource("Desk");
    const other = await insertSource("Other");
    const early = await insertTicket({ sourceId: desk.id, createdAt: new Date("2026-05-01T08:00:00Z") });
    const inside = await insertTicket({ sourceId: desk.id, createdAt: new Date("2026-05-01T09:00:00Z") });
    const atEnd = await insertTicket({ sourceId: desk.id, createdAt: new Date("2026-05-01T10:00:00Z") });
    await insertTicket({ sourceId: other.id, createdAt: new Date("2026-05-01T09:00:00Z") });

    expect(ids(await t.api.get(`/api/tickets?sourceId=${desk.id}`).expect(200))).toEqual([atEnd.id, inside.id, early.id]);
    const window = await t.api.get(`/api/tickets?sourceId=${desk.id}&from=2026-05-01T08:30:00Z&to=2026-05-01T10:00:00Z`).expect(200);
    expect(ids(window)).toEqual([inside.id]);
    expect(ids(await t.api.get(`/api/tickets?sourceId=${desk.id}&from=2026-05-01T09:00:00%2B00:00`).expect(200))).toEqual([atEnd.id, inside.id]);
    expect(ids(await t.api.get(`/api/tickets?sourceId=${desk.id}&to=2026-05-01`).expect(200))).toEqual([]);
  });

  it("When a person searches, then tickets whose subject or any incoming sender's address or name holds the words are listed, whatever the case", async () => {
    const source = await insertSource("Search");
    const bySubject = await insertTicket({ sourceId: source.id, subject: "Scanner JAMS on floor 3" });
    const byAddress = await insertTicket({ sourceId: source.id, subject: "Question" });
    await insertMessage(byAddress.id, { fromAddress: "maria.lopez@northwind.example", fromName: null });
    const byName = await insertTicket({ sourceId: source.id, subject: "Another question" });
    await insertMessage(byName.id, { fromAddress: "x@y.example", fromName: "Jürgen Jamsen" });
    const byReplySender = await insertTicket({ sourceId: source.id, subject: "Thread" });
    await insertMessage(byReplySender.id, { fromAddress: "first@acme.example" });
    await insertMessage(byReplySender.id, { kind: "reply", fromAddress: "boss@northwind.example" });
    const ourAnswer = await insertTicket({ sourceId: source.id, subject: "Answered" });
    await insertMessage(ourAnswer.id, { direction: "outbound", kind: "reply", fromAddress: "support@northwind.example" });

    const search = (q: string) => t.api.get(`/api/tickets?sourceId=${source.id}&q=${encodeURIComponent(q)}`).expect(200);
    expect(ids(await search("jams"))).toEqual([byName.id, bySubject.id]);
    expect(ids(await search("NORTHWIND"))).toEqual([byReplySender.id, byAddress.id]);
    expect(ids(await search("  Lopez "))).toEqual([byAddress.id]);
    expect(ids(await search(`#${bySubject.number}`))).toEqual([bySubject.id]);
    expect(ids(await search("nothing like it"))).toEqual([]);
  });

  it("When the search holds % or _, then they match themselves, not any text", async () => {
    const source = await insertSource("Wildcards");
    const percent = await insertTicket({ sourceId: source.id, subject: "Disk at 100% since Monday" });
    await insertTicket({ sourceId: source.id, subject: "Disk at 1000 GB" });
    const underscore = await insertTicket({ sourceId: source.id, subject: "Share x_drive gone" });
    await insertTicket({ sourceId: source.id, subject: "Share xydrive gone" });
    expect(ids(await t.api.get(`/api/tickets?sourceId=${source.id}&q=${encodeURIComponent("100%")}`).expect(200))).toEqual([percent.id]);
    expect(ids(await t.api.get(`/api/tickets?sourceId=${source.id}&q=x_d`).expect(200))).toEqual([underscore.id]);
  });

  it("When a filtered list is paged, then the pages follow each other without a gap or a repeat, and each item names its first sender", async () => {
    const source = await insertSource("Paged");
    const made = [];
    for (let i = 0; i < 5; i++) {
      const ticket = await insertTicket({ sourceId: source.id, subject: `Printer ${i}` });
      await insertMessage(ticket.id, { fromAddress: `user${i}@acme.example`, fromName: `User ${i}` });
      await insertMessage(ticket.id, { kind: "reply", fromAddress: "later@acme.example", fromName: "Later" });
      made.unshift(ticket.id);
    }
    await insertTicket({ sourceId: source.id, subject: "Scanner" });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.api
        .get(`/api/tickets?sourceId=${source.id}&q=printer&limit=2${cursor ? `&cursor=${cursor}` : ""}`)
        .expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...ids(res));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(made);
    const first = await t.api.get(`/api/tickets?sourceId=${source.id}&q=printer&limit=1`).expect(200);
    expect(first.body.items[0]).toMatchObject({ subject: "Printer 4", from: "user4@acme.example", fromName: "User 4" });
    const noMail = await t.api.get(`/api/tickets?sourceId=${source.id}&q=scanner`).expect(200);
    expect(noMail.body.items[0]).toMatchObject({ from: null, fromName: null });
  });

  it("When the window or the search cannot be read, then the 400 names each field and what to send", async () => {
    const bad = await t.api.get("/api/tickets?sourceId=desk&from=yesterday&to=2026-13-01").expect(400);
    expect(bad.body.error.details).toEqual([
      { field: "sourceId", message: "expected a mail source id" },
      { field: "from", message: "expected an ISO 8601 time such as 2026-01-31T09:00:00Z (or a date, 2026-01-31)" },
      { field: "to", message: "expected an ISO 8601 time such as 2026-01-31T09:00:00Z (or a date, 2026-01-31)" },
    ]);
    const backwards = await t.api.get("/api/tickets?from=2026-05-02&to=2026-05-01").expect(400);
    expect(backwards.body.error.details).toEqual([{ field: "to", message: "must be later than from" }]);
    const long = await t.api.get(`/api/tickets?q=${"x".repeat(201)}`).expect(400);
    expect(long.body.error.details).toEqual([{ field: "q", message: "expected at most 200 characters" }]);
    const blank = await t.api.get("/api/tickets?q=%20%20").expect(400);
    expect(blank.body.error.details).toEqual([{ field: "q", message: "expected some text to search for" }]);
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
