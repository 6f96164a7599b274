// The ticket creation rules through the admin API, on the real database.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getTicketRules } from "../../../src/db/settings.ts";
import { settings } from "../../../src/db/schema.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

const fieldsOf = (body: { error: { details: { field: string }[] } }) => body.error.details.map((d) => d.field);

describe("ticket creation rules", () => {
  it("When nothing is stored, then the rules are the guide's defaults", async () => {
    const res = await t.api.get("/api/settings").expect(200);
    expect(res.body).toMatchObject({
      defaultPriority: "normal",
      defaultJobType: "Support Request",
      autoAssign: { mode: "none" },
      attachments: { mode: "save", maxBytes: 26214400 },
      unmappedDomains: { mode: "default_company", defaultCompanyId: null },
      ticketSubjectTag: "Ticket #",
    });
    expect(await getTicketRules(t.ctx.db)).toEqual(res.body);
  });

  it("When the request has no token, then the API answers 401", async () => {
    await t.anonymous.get("/api/settings").expect(401);
    await t.anonymous.put("/api/settings").send({ defaultPriority: "high" }).expect(401);
  });

  it("When one key is sent, then it replaces the stored one and the rest keep their values", async () => {
    const res = await t.api.put("/api/settings").send({ defaultPriority: "high" }).expect(200);
    expect(res.body).toMatchObject({ defaultPriority: "high", defaultJobType: "Support Request", attachments: { maxBytes: 26214400 } });
    const next = await t.api.put("/api/settings").send({ attachments: { mode: "ignore", maxBytes: 1000, allowedTypes: [".pdf"] } }).expect(200);
    expect(next.body).toMatchObject({ defaultPriority: "high", attachments: { mode: "ignore", maxBytes: 1000, allowedTypes: [".pdf"] } });
    expect((await t.api.get("/api/settings").expect(200)).body).toEqual(next.body);
    expect((await getTicketRules(t.ctx.db)).defaultPriority).toBe("high");
    await t.api.put("/api/settings").send({ defaultPriority: "normal" }).expect(200);
  });

  it("When a value is wrong or a key unknown, then the API answers 400 naming the field and stores nothing", async () => {
    const before = (await t.api.get("/api/settings")).body;
    expect(fieldsOf((await t.api.put("/api/settings").send({ defaultPriority: "asap" }).expect(400)).body)).toEqual(["defaultPriority"]);
    expect(fieldsOf((await t.api.put("/api/settings").send({ colour: "red" }).expect(400)).body)).toEqual(["colour"]);
    expect(fieldsOf((await t.api.put("/api/settings").send({ attachments: { mode: "save", maxBytes: 0, allowedTypes: [] } }).expect(400)).body)).toEqual([
      "attachments.maxBytes",
    ]);
    expect((await t.api.get("/api/settings")).body).toEqual(before);
  });

  it("When the subject tag holds a bracket, a line break or nothing visible, then the API answers 400 naming ticketSubjectTag", async () => {
    const before = (await t.api.get("/api/settings")).body;
    for (const tag of ["Case [", "Case ]#", "Ticket\r\nBcc: x", "Ticket\t#", "   "]) {
      const res = await t.api.put("/api/settings").send({ ticketSubjectTag: tag }).expect(400);
      expect(fieldsOf(res.body), JSON.stringify(tag)).toEqual(["ticketSubjectTag"]);
    }
    expect((await t.api.get("/api/settings")).body).toEqual(before);
    expect((await t.api.put("/api/settings").send({ ticketSubjectTag: "TKT-" }).expect(200)).body.ticketSubjectTag).toBe("TKT-");
    await t.api.put("/api/settings").send({ ticketSubjectTag: "Ticket #" }).expect(200);
  });

  it("When auto-assign names a tech that does not exist or is inactive, then the API answers 400 naming autoAssign.techId", async () => {
    const missing = await t.api.put("/api/settings").send({ autoAssign: { mode: "specific", techId: randomUUID() } }).expect(400);
    expect(fieldsOf(missing.body)).toEqual(["autoAssign.techId"]);
    const idle = await t.api.post("/api/techs").send({ name: "Idle", email: "idle@msp.test", active: false }).expect(201);
    const inactive = await t.api.put("/api/settings").send({ autoAssign: { mode: "specific", techId: idle.body.id } }).expect(400);
    expect(fieldsOf(inactive.body)).toEqual(["autoAssign.techId"]);
    const busy = await t.api.post("/api/techs").send({ name: "Busy", email: "busy@msp.test" }).expect(201);
    const ok = await t.api.put("/api/settings").send({ autoAssign: { mode: "specific", techId: busy.body.id } }).expect(200);
    expect(ok.body.autoAssign).toEqual({ mode: "specific", techId: busy.body.id });
    expect((await getTicketRules(t.ctx.db)).autoAssign).toEqual({ mode: "specific", techId: busy.body.id });
    await t.api.put("/api/settings").send({ autoAssign: { mode: "round_robin" } }).expect(200);
  });

  it("When the company for unmapped mail does not exist, then the API answers 400 naming unmappedDomains.defaultCompanyId", async () => {
    const res = await t.api.put("/api/settings").send({ unmappedDomains: { mode: "default_company", defaultCompanyId: randomUUID() } }).expect(400);
    expect(fieldsOf(res.body)).toEqual(["unmappedDomains.defaultCompanyId"]);
    const company = await t.api.post("/api/companies").send({ name: "Catch-all" }).expect(201);
    await t.api.put("/api/settings").send({ unmappedDomains: { mode: "default_company", defaultCompanyId: company.body.id } }).expect(200);
    const del = await t.api.delete(`/api/companies/${company.body.id}`).expect(409);
    expect(del.body.error.code).toBe("company_in_use");
    await t.api.put("/api/settings").send({ unmappedDomains: { mode: "lead" } }).expect(200);
    await t.api.delete(`/api/companies/${company.body.id}`).expect(204);
  });

  it("When the default job type does not exist, then the API answers 400 naming defaultJobType", async () => {
    const res = await t.api.put("/api/settings").send({ defaultJobType: "Nothing Like It" }).expect(400);
    expect(fieldsOf(res.body)).toEqual(["defaultJobType"]);
    await t.api.post("/api/job-types").send({ name: "Nothing Like It" }).expect(201);
    await t.api.put("/api/settings").send({ defaultJobType: "Nothing Like It" }).expect(200);
  });

  it("When a stored value is no longer valid, then the pipeline sees the default for that key alone", async () => {
    await t.ctx.db
      .insert(settings)
      .values({ key: "ticket_rules", value: { defaultPriority: "someday", ticketSubjectTag: "Case #" } })
      .onConflictDoUpdate({ target: settings.key, set: { value: { defaultPriority: "someday", ticketSubjectTag: "Case #" } } });
    const rules = await getTicketRules(t.ctx.db);
    expect(rules).toMatchObject({ defaultPriority: "normal", ticketSubjectTag: "Case #", defaultJobType: "Support Request" });
  });
});
