// Companies and their domains through the admin API, on the real database.
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { companies, inboundMessages, mailSources, ticketMessages, tickets } from "../../../src/db/schema.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import type { InboundStatus } from "../../../src/db/statuses.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

let serial = 0;
const unique = (base: string) => `${base}-${++serial}`;

async function createCompany(body: Record<string, unknown> = {}) {
  const res = await t.api.post("/api/companies").send({ name: unique("Company"), ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string; domains: string[]; isDefault: boolean; createdAt: string; updatedAt: string };
}

async function insertSource(values: { companyId?: string | null; role?: string; address?: string } = {}) {
  const [row] = await t.ctx.db
    .insert(mailSources)
    .values({
      kind: "api",
      name: "Support",
      address: values.address ?? `${unique("support")}@mailgate.test`,
      role: values.role ?? "system",
      companyId: values.companyId ?? null,
    })
    .returning();
  return row!;
}

async function insertInbound(sourceId: string, fromAddress: string, status: InboundStatus = "unrouted") {
  const [row] = await t.ctx.db
    .insert(inboundMessages)
    .values({ sourceId, providerMessageId: randomUUID(), raw: Buffer.from("x"), rawSize: 1, rawSha256: "0", status, reason: "no_company", fromAddress })
    .returning();
  return row!;
}

async function insertUnmappedTicket(companyId: string, fromAddress: string) {
  const [ticket] = await t.ctx.db
    .insert(tickets)
    .values({ subject: "Help", priority: "normal", jobType: "Support Request", companyId, unmapped: true })
    .returning();
  await t.ctx.db.insert(ticketMessages).values({
    ticketId: ticket!.id,
    kind: "initial",
    fromAddress,
    subject: "Help",
    messageId: `${randomUUID()}@mailgate.test`,
    receivedAt: new Date(),
  });
  return ticket!;
}

const fieldsOf = (body: { error: { details: { field: string }[] } }) => body.error.details.map((d) => d.field);

describe("creating and reading companies", () => {
  it("When a company is created with domains, then it answers 201 with normalised domains and ISO times", async () => {
    const res = await t.api.post("/api/companies").send({ name: "  Acme Corporation ", domains: ["@ACME.com ", "acme-corp.com"] }).expect(201);
    expect(res.body).toMatchObject({ name: "Acme Corporation", domains: ["acme-corp.com", "acme.com"], isDefault: false });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
    const got = await t.api.get(`/api/companies/${res.body.id}`).expect(200);
    expect(got.body).toMatchObject({ id: res.body.id, domains: ["acme-corp.com", "acme.com"], mailboxes: [] });
  });

  it("When the request has no token, then the API answers 401", async () => {
    await t.anonymous.post("/api/companies").send({ name: "Nope" }).expect(401);
    await t.anonymous.get("/api/companies").expect(401);
  });

  it("When the body has an unknown field, then the API answers 400 naming it", async () => {
    const res = await t.api.post("/api/companies").send({ name: "X", colour: "red" }).expect(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(fieldsOf(res.body)).toEqual(["colour"]);
  });

  it("When the name is missing or empty, then the API answers 400 naming the name", async () => {
    expect(fieldsOf((await t.api.post("/api/companies").send({}).expect(400)).body)).toEqual(["name"]);
    expect(fieldsOf((await t.api.post("/api/companies").send({ name: "   " }).expect(400)).body)).toEqual(["name"]);
  });

  it("When a domain is not a hostname, then the API answers 400 naming its position", async () => {
    for (const bad of ["not a domain", "localhost", "10.0.0.1", "-acme.com", "acme..com", "a_b.com"]) {
      const res = await t.api.post("/api/companies").send({ name: "X", domains: ["ok.example", bad] });
      expect(res.status, bad).toBe(400);
      expect(fieldsOf(res.body)).toEqual(["domains.1"]);
    }
  });

  it("When one request lists a domain twice, then the API answers 400 and creates nothing", async () => {
    const before = (await t.ctx.db.select().from(companies)).length;
    const res = await t.api.post("/api/companies").send({ name: "Twice", domains: ["twice.com", "TWICE.com"] }).expect(400);
    expect(fieldsOf(res.body)).toEqual(["domains.1"]);
    expect((await t.ctx.db.select().from(companies)).length).toBe(before);
  });

  it("When a new company names a domain another company has, then the API answers 409 and creates nothing", async () => {
    const owner = await createCompany({ domains: ["taken.com"] });
    const before = (await t.ctx.db.select().from(companies)).length;
    const res = await t.api.post("/api/companies").send({ name: "Latecomer", domains: ["free-one.com", "taken.com"] }).expect(409);
    expect(res.body.error).toMatchObject({
      code: "domain_conflict",
      details: { domain: "taken.com", companyId: owner.id, companyName: owner.name },
    });
    expect(res.body.error.message).toContain(owner.name);
    expect((await t.ctx.db.select().from(companies)).length).toBe(before);
    const owners = await t.api.post("/api/companies").send({ name: "Free", domains: ["free-one.com"] });
    expect(owners.status).toBe(201);
  });

  it("When an id is unknown or not a UUID, then the API answers 404", async () => {
    for (const path of [`/api/companies/${randomUUID()}`, "/api/companies/not-a-uuid"]) {
      expect((await t.api.get(path)).status).toBe(404);
      expect((await t.api.patch(path).send({ name: "X" })).status).toBe(404);
      expect((await t.api.delete(path)).status).toBe(404);
      expect((await t.api.post(`${path}/domains`).send({ domain: "x.com" })).status).toBe(404);
      expect((await t.api.delete(`${path}/domains/x.com`)).status).toBe(404);
    }
  });

  it("When the list is read two at a time, then following nextCursor visits every company once", async () => {
    const fresh = await createTestContext();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await fresh.api.post("/api/companies").send({ name: `Paged ${i}`, domains: [`paged${i}.com`] }).expect(201);
        ids.push(res.body.id);
      }
      const first = await fresh.api.get("/api/companies?limit=2").expect(200);
      expect(first.body.items).toHaveLength(2);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await fresh.api.get(`/api/companies?limit=2&cursor=${first.body.nextCursor}`).expect(200);
      expect(second.body.nextCursor).toBeNull();
      const seen = [...first.body.items, ...second.body.items];
      expect(seen.map((c: { id: string }) => c.id).sort()).toEqual([...ids].sort());
      expect(seen.find((c: { id: string }) => c.id === ids[1])).toMatchObject({ domains: ["paged1.com"] });
    } finally {
      await fresh.close();
    }
  });

  it("When limit is out of range, then the API answers 400 naming limit", async () => {
    expect(fieldsOf((await t.api.get("/api/companies?limit=501").expect(400)).body)).toEqual(["limit"]);
  });
});

describe("the default company", () => {
  it("When a second company is made the default, then the first one stops being the default", async () => {
    const first = await createCompany({ isDefault: true });
    const second = await createCompany();
    await t.api.patch(`/api/companies/${second.id}`).send({ isDefault: true }).expect(200);
    const defaults = await t.ctx.db.select().from(companies).where(eq(companies.isDefault, true));
    expect(defaults.map((c) => c.id)).toEqual([second.id]);
    expect((await t.api.get(`/api/companies/${first.id}`)).body.isDefault).toBe(false);
    const third = await createCompany({ isDefault: true });
    const after = await t.ctx.db.select().from(companies).where(eq(companies.isDefault, true));
    expect(after.map((c) => c.id)).toEqual([third.id]);
  });

  it("When several companies are made the default at once, then exactly one ends up the default", async () => {
    const many = await Promise.all([1, 2, 3, 4].map(() => createCompany()));
    const answers = await Promise.all(many.map((c) => t.api.patch(`/api/companies/${c.id}`).send({ isDefault: true })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(await t.ctx.db.select().from(companies).where(eq(companies.isDefault, true))).toHaveLength(1);
  });

  it("When a company is renamed, then the answer shows the new name and a later updatedAt", async () => {
    const c = await createCompany();
    const res = await t.api.patch(`/api/companies/${c.id}`).send({ name: "Renamed Ltd" }).expect(200);
    expect(res.body).toMatchObject({ name: "Renamed Ltd", isDefault: false });
    expect(res.body.updatedAt >= c.updatedAt).toBe(true);
  });

  it("When PATCH carries a field it cannot change, then the API answers 400 naming it", async () => {
    const c = await createCompany();
    const res = await t.api.patch(`/api/companies/${c.id}`).send({ domains: ["x.com"] }).expect(400);
    expect(fieldsOf(res.body)).toEqual(["domains"]);
    expect(fieldsOf((await t.api.patch(`/api/companies/${c.id}`).send({ isDefault: "yes" }).expect(400)).body)).toEqual(["isDefault"]);
  });
});

describe("domains", () => {
  it("When a free domain is added, then the API answers 201 with the company", async () => {
    const c = await createCompany();
    const res = await t.api.post(`/api/companies/${c.id}/domains`).send({ domain: "@Globex.COM" }).expect(201);
    expect(res.body).toMatchObject({ id: c.id, domains: ["globex.com"] });
    expect(res.body.rerouted).toBeUndefined();
  });

  it("When the company already has the domain, then the API answers 200", async () => {
    const c = await createCompany({ domains: ["again.com"] });
    const res = await t.api.post(`/api/companies/${c.id}/domains`).send({ domain: "AGAIN.com" }).expect(200);
    expect(res.body.domains).toEqual(["again.com"]);
  });

  it("When a domain is mapped to another company, then the API answers 409 naming that company", async () => {
    const owner = await createCompany({ domains: ["initech.com"] });
    const other = await createCompany();
    const res = await t.api.post(`/api/companies/${other.id}/domains`).send({ domain: "initech.com" }).expect(409);
    expect(res.body.error).toMatchObject({ code: "domain_conflict", details: { domain: "initech.com", companyId: owner.id, companyName: owner.name } });
    expect(res.body.error.message).toContain(`"${owner.name}"`);
  });

  it("When two companies claim one domain at once, then one gets it and the other hears 409", async () => {
    const [a, b] = await Promise.all([createCompany(), createCompany()]);
    const answers = await Promise.all([a!, b!].map((c) => t.api.post(`/api/companies/${c.id}/domains`).send({ domain: "contested.com" })));
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it("When the domain body is wrong, then the API answers 400 naming the field", async () => {
    const c = await createCompany();
    expect(fieldsOf((await t.api.post(`/api/companies/${c.id}/domains`).send({ domain: "nope" }).expect(400)).body)).toEqual(["domain"]);
    expect(fieldsOf((await t.api.post(`/api/companies/${c.id}/domains`).send({ domain: "ok.com", x: 1 }).expect(400)).body)).toEqual(["x"]);
    expect(fieldsOf((await t.api.post(`/api/companies/${c.id}/domains`).send({ domain: "ok.com", reroute: "y" }).expect(400)).body)).toEqual(["reroute"]);
  });

  it("When a domain is removed, then the API answers 204 and the company no longer lists it", async () => {
    const c = await createCompany({ domains: ["keep.com", "drop.com"] });
    await t.api.delete(`/api/companies/${c.id}/domains/DROP.com`).expect(204);
    expect((await t.api.get(`/api/companies/${c.id}`)).body.domains).toEqual(["keep.com"]);
  });

  it("When the company does not have the domain, then removing it answers 404", async () => {
    await createCompany({ domains: ["theirs.com"] });
    const c = await createCompany();
    const res = await t.api.delete(`/api/companies/${c.id}/domains/theirs.com`).expect(404);
    expect(res.body.error.code).toBe("not_found");
    await t.api.delete(`/api/companies/${c.id}/domains/not%20a%20domain`).expect(404);
  });
});

describe("rerouting mail that waited for a domain", () => {
  it("When newco.com is mapped with reroute, then its unrouted mail goes back to the queue and unmapped tickets move", async () => {
    const source = await insertSource();
    const waiting = await insertInbound(source.id, "x@newco.com");
    const fromSub = await insertInbound(source.id, "y@eu.newco.com");
    const lookalike = await insertInbound(source.id, "z@notnewco.com");
    const fallback = await createCompany();
    const unmapped = await insertUnmappedTicket(fallback.id, "boss@newco.com");
    const unrelated = await insertUnmappedTicket(fallback.id, "boss@other.com");
    let woken = 0;
    const stop = t.ctx.database.onWake("inbound", () => woken++);

    const newco = await createCompany();
    const res = await t.api.post(`/api/companies/${newco.id}/domains`).send({ domain: "newco.com", reroute: true }).expect(201);
    stop();

    expect(res.body.rerouted).toEqual({ messages: 2, tickets: 1 });
    expect(woken).toBeGreaterThan(0);
    const statusOf = async (id: string) => (await t.ctx.db.select().from(inboundMessages).where(eq(inboundMessages.id, id)))[0]!;
    expect(await statusOf(waiting.id)).toMatchObject({ status: "received", reason: null });
    expect((await statusOf(fromSub.id)).status).toBe("received");
    expect((await statusOf(lookalike.id)).status).toBe("unrouted");
    const ticketOf = async (id: string) => (await t.ctx.db.select().from(tickets).where(eq(tickets.id, id)))[0]!;
    expect(await ticketOf(unmapped.id)).toMatchObject({ companyId: newco.id, unmapped: false });
    expect(await ticketOf(unrelated.id)).toMatchObject({ companyId: fallback.id, unmapped: true });
  });

  it("When a more specific domain belongs to another company, then its unmapped tickets stay where they are", async () => {
    const fallback = await createCompany();
    await createCompany({ domains: ["eu.bigcorp.com"] });
    const euTicket = await insertUnmappedTicket(fallback.id, "anna@eu.bigcorp.com");
    const bigcorp = await createCompany();
    const res = await t.api.post(`/api/companies/${bigcorp.id}/domains`).send({ domain: "bigcorp.com", reroute: true }).expect(201);
    expect(res.body.rerouted).toEqual({ messages: 0, tickets: 0 });
    expect((await t.ctx.db.select().from(tickets).where(eq(tickets.id, euTicket.id)))[0]).toMatchObject({ unmapped: true });
  });

  it("When a domain is mapped without reroute, then waiting mail stays unrouted", async () => {
    const source = await insertSource();
    const waiting = await insertInbound(source.id, "x@later.com");
    const c = await createCompany();
    await t.api.post(`/api/companies/${c.id}/domains`).send({ domain: "later.com" }).expect(201);
    expect((await t.ctx.db.select().from(inboundMessages).where(eq(inboundMessages.id, waiting.id)))[0]!.status).toBe("unrouted");
  });
});

describe("deleting companies", () => {
  it("When a company without mailboxes is deleted, then the API answers 204 and its domains are free again", async () => {
    const c = await createCompany({ domains: ["gone.com"] });
    await t.api.delete(`/api/companies/${c.id}`).expect(204);
    await t.api.get(`/api/companies/${c.id}`).expect(404);
    await createCompany({ domains: ["gone.com"] });
  });

  it("When a company still has a mailbox, then deleting it answers 409 saying to delete or reassign the mailbox", async () => {
    const c = await createCompany();
    const source = await insertSource({ companyId: c.id, role: "company", address: "help@vip.test" });
    const res = await t.api.delete(`/api/companies/${c.id}`).expect(409);
    expect(res.body.error.code).toBe("company_has_mailboxes");
    expect(res.body.error.message).toMatch(/delete them or reassign them/);
    expect(res.body.error.message).toContain("help@vip.test");
    const got = await t.api.get(`/api/companies/${c.id}`).expect(200);
    expect(got.body.mailboxes).toEqual([{ id: source.id, name: "Support", address: "help@vip.test", kind: "api" }]);
  });
});
