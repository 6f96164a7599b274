// The listener stores the mails of concurrent DATA commands together (intake-batcher.ts): each
// sender is still answered 250 only once its own mail is committed, a duplicate is stored once,
// and a batch the database refuses is answered 451 to every sender in it, with nothing stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { buildEmail } from "../../helpers/build-email.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { sql } from "../../../src/db/client.ts";
import { storeInboundCopies, type HandedOverMail } from "../../../src/db/inbound-store.ts";
import { inboundMessages } from "../../../src/db/schema.ts";
import { startSmtpListener, type SmtpListener } from "../../../src/sources/smtp/smtp-listener.ts";
import { sendRaw } from "./smtp-client.ts";

let t: TestContext;
let listener: SmtpListener;
let sourceId: string;

const TO = "support@msp.example";
const raw = (name: string) => buildEmail({ from: "john@acme.example", to: TO, subject: name, messageId: `<${name}@acme.example>` });
const send = (name: string) => sendRaw(listener.port, { from: "john@acme.example", to: [TO], raw: raw(name) });
const storedMessageIds = async () =>
  (await t.ctx.db.select({ messageId: inboundMessages.messageId }).from(inboundMessages).where(eq(inboundMessages.sourceId, sourceId))).map((r) => r.messageId ?? "").sort();
const handedOver = (name: string): HandedOverMail => ({
  sourceIds: [sourceId],
  providerMessageId: `test:${name}`,
  raw: raw(name),
  envelope: { mailFrom: "john@acme.example", rcptTo: [TO], clientAddress: "127.0.0.1", helo: "test", tls: false, authUser: null },
  receivedAt: new Date(),
});

beforeAll(async () => {
  t = await createTestContext({ env: { SMTP_LISTEN: "127.0.0.1:0" } });
  sourceId = (await t.api.post("/api/sources").send({ kind: "smtp", name: "Support", address: TO, role: "system" }).expect(201)).body.id;
  listener = await startSmtpListener(t.ctx, t.config.smtpListener!);
  // A row the database refuses, standing for any failure of the statement that stores a batch.
  await t.ctx.db.execute(sql`
    create function refuse_poison() returns trigger language plpgsql as $$
    begin
      if new.message_id like 'poison%' then raise exception 'refused by the test'; end if;
      return new;
    end $$`);
  await t.ctx.db.execute(sql`create trigger refuse_poison before insert on inbound_messages for each row execute function refuse_poison()`);
});

afterAll(async () => {
  await listener?.stop();
  await t?.close();
});

describe("the SMTP listener's batched stores", () => {
  it("When 20 servers hand over mail at the same time, then each is answered 250 and each mail is stored once", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `concurrent-${String(i).padStart(2, "0")}`);
    const sent = await Promise.all(names.map(send));
    expect(sent.map((s) => s.ok)).toEqual(names.map(() => true));
    expect(await storedMessageIds()).toEqual(names.map((n) => `${n}@acme.example`));
  });

  it("When the same mail is handed over twice at once, then both senders are answered 250 and it is stored once", async () => {
    const before = (await storedMessageIds()).length;
    const sent = await Promise.all([send("twice"), send("twice"), send("twice")]);
    expect(sent.every((s) => s.ok)).toBe(true);
    expect((await storedMessageIds()).filter((id) => id === "twice@acme.example")).toHaveLength(1);
    expect(await storedMessageIds()).toHaveLength(before + 1);
  });

  it("When a batch holds the same mail twice, then its copy is stored once, credited to the first, and the second is a duplicate", async () => {
    const outcomes = await storeInboundCopies(t.ctx.db, [handedOver("same-batch-a"), handedOver("same-batch-b"), handedOver("same-batch-a")]);
    expect(outcomes).toEqual([{ created: 1 }, { created: 1 }, { created: 0 }]);
    expect((await storedMessageIds()).filter((id) => id.startsWith("same-batch"))).toEqual(["same-batch-a@acme.example", "same-batch-b@acme.example"]);
  });

  it("When the database refuses one mail of a batch, then the whole batch fails and nothing of it is stored", async () => {
    await expect(storeInboundCopies(t.ctx.db, [handedOver("batch-ok-1"), handedOver("poison-in-batch"), handedOver("batch-ok-2")])).rejects.toThrow();
    expect((await storedMessageIds()).filter((id) => id.startsWith("batch-ok") || id.startsWith("poison"))).toEqual([]);
  });

  it("When a batch cannot be stored, then every sender of that batch is answered 451 and nothing of theirs is stored; retried, the others are answered 250", async () => {
    const names = ["poison-smtp", ...Array.from({ length: 11 }, (_, i) => `beside-poison-${i}`)];
    const sent = await Promise.all(names.map(send));
    const stored = new Set(await storedMessageIds());
    for (const [i, name] of names.entries()) {
      const result = sent[i]!;
      if (result.ok) expect(stored.has(`${name}@acme.example`)).toBe(true);
      else {
        expect(result).toMatchObject({ responseCode: 451, command: "DATA" });
        expect(stored.has(`${name}@acme.example`)).toBe(false);
      }
    }
    expect(sent[0]).toMatchObject({ ok: false, responseCode: 451 });
    const refused = names.slice(1).filter((_, i) => !sent[i + 1]!.ok);
    expect((await Promise.all(refused.map(send))).every((s) => s.ok)).toBe(true);
    expect(await storedMessageIds()).toEqual(expect.arrayContaining(names.slice(1).map((n) => `${n}@acme.example`)));
  });
});
