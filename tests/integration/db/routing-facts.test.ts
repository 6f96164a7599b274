// The routing facts and the Message-ID claims of a batch: one statement each for all its
// messages, reading what they name and not whole tables, even when the statistics are stale (a fresh install, a burst or a backlog
// before autovacuum analyses) and the plan is the generic one the worker uses.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, sql } from "../../../src/db/client.ts";
import { claimMessageIds } from "../../../src/db/message-ids.ts";
import { loadRoutingFacts, type RoutingQuery } from "../../../src/db/routing-facts.ts";
import { mailSources } from "../../../src/db/schema.ts";
import { rowsRead } from "../../helpers/db-tables.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
const ROWS = 5000;
const BATCH = 32;
let firstTicketNumber = 0;
/** Inbound rows for the messages asking (the claim's foreign key), none of them a referenced one. */
let askingIds: string[] = [];

beforeAll(async () => {
  t = await createTestContext();
  const [source] = await t.ctx.db
    .insert(mailSources)
    .values({ kind: "api", name: "facts", address: "facts@mailgate.test", role: "system", status: "connected" })
    .returning({ id: mailSources.id });
  // Never analysed: 500 companies with a domain each, 5,000 tickets with a stored Message-ID
  // each, 5,000 messages waiting to be processed.
  await t.ctx.db.execute(sql`insert into companies (name) select 'Company ' || g from generate_series(1, 500) g`);
  await t.ctx.db.execute(
    sql`insert into company_domains (domain, company_id) select 'company' || substr(name, 9) || '.example', id from companies where name like 'Company %'`,
  );
  await t.ctx.db.execute(
    sql`insert into tickets (subject, priority, job_type) select 'Ticket ' || g, 'normal', 'Support' from generate_series(1, ${ROWS}) g`,
  );
  await t.ctx.db.execute(
    sql`insert into message_ids (message_id, ticket_id) select '<ticket-' || substr(subject, 8) || '@facts.test>', id from tickets where subject like 'Ticket %'`,
  );
  await t.ctx.db.execute(
    sql`insert into inbound_messages (source_id, provider_message_id, raw, raw_size, raw_sha256, message_id)
        select ${source!.id}::uuid, 'facts-' || g, convert_to(repeat('x', 2000), 'UTF8'), 2000, '-', '<waiting-' || g || '@facts.test>'
          from generate_series(1, ${ROWS}) g`,
  );
  const [first] = await queryRows<{ n: string }>(t.ctx.db, sql`select min(number) as n from tickets`);
  firstTicketNumber = Number(first!.n);
  const asking = await queryRows<{ id: string }>(
    t.ctx.db,
    sql`select id from inbound_messages where provider_message_id like 'facts-49%' order by provider_message_id limit 40`,
  );
  askingIds = asking.map((a) => a.id);
});
afterAll(async () => t.close());

const query = (i: number): RoutingQuery => ({
  recipients: ["facts@mailgate.test"],
  senderDomains: [`mail.company${(i % 500) + 1}.example`, `company${(i % 500) + 1}.example`],
  ticketNumbers: [firstTicketNumber + i * 100],
  // A stored reply target, and a mail still waiting.
  referencedIds: [`<ticket-${i * 100 + 1}@facts.test>`, `<waiting-${i * 150 + 1}@facts.test>`],
  sourceCompanyId: null,
  inboundMessageId: askingIds[i % 40]!,
  now: new Date(),
});
const claimOf = (i: number) => ({ messageId: `<new-${i}@facts.test>`, inboundMessageId: askingIds[i % 40]! });

describe("the routing facts of a batch", () => {
  it("When 32 messages ask among 5,000 tickets, Message-IDs and waiting mails never analysed, then one statement answers each and reads what they name", async () => {
    await t.ctx.db.transaction(async (tx) => {
      await tx.execute(sql`set local plan_cache_mode = force_generic_plan`); // as the worker runs it
      const tables = ["tickets", "message_ids", "inbound_messages", "companies", "company_domains"];
      const before = await Promise.all(tables.map((table) => rowsRead(tx, table)));
      const claims = await claimMessageIds(
        tx,
        Array.from({ length: BATCH }, (_, i) => claimOf(i)),
      );
      const facts = await loadRoutingFacts(
        tx,
        Array.from({ length: BATCH }, (_, i) => query(i)),
      );
      const read = Object.fromEntries(await Promise.all(tables.map(async (table, k) => [table, (await rowsRead(tx, table)) - before[k]!])));

      expect(claims).toEqual(Array.from({ length: BATCH }, () => ({ kind: "claimed" })));
      expect(facts).toHaveLength(BATCH);
      facts.forEach((f, i) => {
        expect(f.subjectTickets.map((s) => s.number)).toEqual([firstTicketNumber + i * 100]);
        expect([...f.headerTickets.keys()]).toEqual([`<ticket-${i * 100 + 1}@facts.test>`]);
        expect(f.awaitingReferenced).toBe(true);
        expect(Object.keys(f.domainMatches)).toEqual([`company${(i % 500) + 1}.example`]);
        expect([...f.companyNames.values()]).toEqual([`Company ${(i % 500) + 1}`]);
      });
      // A few rows per message each; scanning, it read thousands per message (every ticket,
      // every stored Message-ID, every waiting mail).
      for (const table of tables.filter((n) => n !== "companies")) expect(read[table], table).toBeLessThan(BATCH * 4);
      // Companies: the same, plus, until the table is analysed, one pass for the default company
      // once per batch (the planner cannot tell that its partial index holds at most one row).
      expect(read.companies).toBeLessThan(500 + BATCH * 4);
    });
  });

  it("When two messages of a batch carry the same Message-ID, then the first claims it and the second finds it taken by the first", async () => {
    await t.ctx.db.transaction(async (tx) => {
      const [a, b] = [claimOf(32), claimOf(33)].map((c) => ({ ...c, messageId: "<copy@facts.test>" }));
      const [first, second] = await claimMessageIds(tx, [a!, b!]);
      expect(first).toEqual({ kind: "claimed" });
      // Not visible to the statement that inserted it: the claim looks again, as for a claim a
      // concurrent transaction made.
      expect(second).toEqual({ kind: "taken", inboundMessageId: a!.inboundMessageId, ticketId: null });
    });
  });

  it("When a message is processed again, then it keeps its own claim", async () => {
    await t.ctx.db.transaction(async (tx) => {
      const mail = { ...claimOf(34), messageId: "<again@facts.test>" };
      expect(await claimMessageIds(tx, [mail])).toEqual([{ kind: "claimed" }]);
      expect(await claimMessageIds(tx, [mail])).toEqual([{ kind: "claimed" }]);
    });
  });
});
