// Attachment names are the sender's text. Whatever they hold, the API, the webhook payloads and
// the download's Content-Disposition give one safe `filename`, and the sender's own name beside it
// as `originalFilename`.
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachmentBlobs, attachments, events, ticketMessages } from "../../../src/db/schema.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
let sourceId: string;

beforeAll(async () => {
  t = await createTestContext();
  sourceId = await createSource(t);
  await createCompany(t, "Acme Corporation", ["acme.com"]);
});
afterAll(async () => t.close());

// The sender's name → the name mailgate gives the file.
const HOSTILE: [string, string][] = [
  ["../../etc/passwd", "_.._etc_passwd"],
  ['a"b\r\nX-Injected: 1.txt', "a_b X-Injected_ 1.txt"],
  ["invoice\u202egnp.exe", "invoicegnp.exe"],
];

type Attachment = { id: string; filename: string; originalFilename: string | null };
type Skipped = { filename: string; originalFilename: string | null; reason: string };

// Attachments stored together come back in no particular order: compared sorted.
const byName = (a: { filename: string }, b: { filename: string }) => a.filename.localeCompare(b.filename);
const names = (list: { filename: string; originalFilename: string | null }[]) =>
  list.map(({ filename, originalFilename }) => ({ filename, originalFilename })).sort(byName);
const expected = HOSTILE.map(([originalFilename, filename]) => ({ filename, originalFilename })).sort(byName);

async function ticketOf(ticketId: string | null) {
  return (await t.api.get(`/api/tickets/${ticketId}`).expect(200)).body as { messages: { attachments: Attachment[]; skippedAttachments: Skipped[] }[] };
}

async function eventAttachments(type: string): Promise<Attachment[]> {
  const [row] = await t.ctx.db.select().from(events).where(eq(events.type, type));
  return (row?.payload as { data: { attachments: Attachment[] } }).data.attachments;
}

const hostileAttachments = () => HOSTILE.map(([filename], i) => ({ filename, contentType: "application/octet-stream", content: `file ${i}` }));

describe("attachment names", () => {
  it("When an email's attachments have hostile names, then the API, the webhook payloads and the download all give the safe name, and the sender's beside it", async () => {
    const opened = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", messageId: "<names-1@acme.com>", attachments: hostileAttachments() }));
    expect(opened.status).toBe("ticket_created");
    const [message] = (await ticketOf(opened.ticketId)).messages;
    expect(names(message!.attachments)).toEqual(expected);
    expect(names(await eventAttachments("ticket.created"))).toEqual(expected);

    for (const att of message!.attachments) {
      const res = await t.api.get(`/api/attachments/${att.id}/content`).expect(200);
      expect(res.headers["content-disposition"]).toBe(`attachment; filename="${att.filename}"`);
    }

    const reply = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", inReplyTo: "<names-1@acme.com>", attachments: hostileAttachments() }));
    expect(reply.status).toBe("note_added");
    expect(names(await eventAttachments("ticket.reply_received"))).toEqual(expected);
  });

  it("When an attachment with a hostile name is skipped, then the skipped entry and its reason carry the safe name", async () => {
    await t.api.put("/api/settings").send({ attachments: { mode: "save", maxBytes: 3, allowedTypes: [] } }).expect(200);
    try {
      const msg = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", attachments: hostileAttachments() }));
      const [message] = (await ticketOf(msg.ticketId)).messages;
      expect(message!.attachments).toEqual([]);
      const skipped = message!.skippedAttachments;
      expect(names(skipped)).toEqual(expected);
      for (const entry of skipped) {
        expect(entry.reason.startsWith(`${entry.filename} is 6 bytes`), entry.reason).toBe(true);
      }
    } finally {
      await t.api.put("/api/settings").send({ attachments: { mode: "save", maxBytes: 26214400, allowedTypes: [] } }).expect(200);
    }
  });

  it("When an attachment has no name, then originalFilename is null and filename is made up from the part", async () => {
    const raw = buildEmail({ from: "john@acme.com", attachments: [{ filename: "", contentType: "application/pdf", content: "%PDF" }] });
    const msg = await deliver(t, sourceId, raw);
    const [message] = (await ticketOf(msg.ticketId)).messages;
    expect(names(message!.attachments)).toEqual([{ filename: "attachment-1.pdf", originalFilename: null }]);
  });

  it("When a row stored before names were made safe holds a raw name, then the API and the download make it safe the same way", async () => {
    const msg = await deliver(t, sourceId, buildEmail({ from: "john@acme.com" }));
    const [stored] = await t.ctx.db.select({ id: ticketMessages.id }).from(ticketMessages).where(eq(ticketMessages.ticketId, msg.ticketId!));
    const content = Buffer.from("legacy");
    const sha256 = createHash("sha256").update(content).digest("hex");
    await t.ctx.db.insert(attachmentBlobs).values({ sha256, size: content.length, content }).onConflictDoNothing();
    const raw = "..\\..\\boot.ini\u202e";
    const [row] = await t.ctx.db
      .insert(attachments)
      .values({ ticketMessageId: stored!.id, filename: raw, originalFilename: raw, contentType: "text/plain", size: content.length, sha256 })
      .returning();
    const [message] = (await ticketOf(msg.ticketId)).messages;
    expect(names(message!.attachments)).toEqual([{ filename: "_.._boot.ini", originalFilename: raw }]);
    const res = await t.api.get(`/api/attachments/${row!.id}/content`).expect(200);
    expect(res.headers["content-disposition"]).toBe('attachment; filename="_.._boot.ini"');
  });
});
