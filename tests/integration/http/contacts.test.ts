// Contacts through the admin API, on the real database.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

let serial = 0;
const fieldsOf = (body: { error: { details: { field: string }[] } }) => body.error.details.map((d) => d.field);

async function createCompany(): Promise<string> {
  const res = await t.api.post("/api/companies").send({ name: `Company ${++serial}` }).expect(201);
  return res.body.id as string;
}

async function createContact(body: Record<string, unknown>) {
  const res = await t.api.post("/api/contacts").send({ email: `person${++serial}@acme.com`, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; companyId: string; email: string; name: string | null; createdAt: string; updatedAt: string };
}

describe("contacts", () => {
  it("When a contact is created, then the email is trimmed and lower-cased and the answer is 201", async () => {
    const companyId = await createCompany();
    const res = await t.api.post("/api/contacts").send({ companyId, email: "  John.Doe@ACME.com ", name: "John Doe" }).expect(201);
    expect(res.body).toMatchObject({ companyId, email: "john.doe@acme.com", name: "John Doe" });
    expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
    const got = await t.api.get(`/api/contacts/${res.body.id}`).expect(200);
    expect(got.body).toEqual(res.body);
  });

  it("When the name is left out, then the contact has a null name", async () => {
    const contact = await createContact({ companyId: await createCompany() });
    expect(contact.name).toBeNull();
  });

  it("When the request has no token, then the API answers 401", async () => {
    await t.anonymous.get("/api/contacts").expect(401);
    await t.anonymous.post("/api/contacts").send({}).expect(401);
  });

  it("When the company does not exist, then the API answers 400 naming companyId", async () => {
    const res = await t.api.post("/api/contacts").send({ companyId: randomUUID(), email: "a@b.com" }).expect(400);
    expect(res.body.error.details).toEqual([{ field: "companyId", message: expect.stringContaining("no such company") }]);
  });

  it("When the email is not an address or a field is unknown, then the API answers 400 naming it", async () => {
    const companyId = await createCompany();
    expect(fieldsOf((await t.api.post("/api/contacts").send({ companyId, email: "not-an-email" }).expect(400)).body)).toEqual(["email"]);
    expect(fieldsOf((await t.api.post("/api/contacts").send({ companyId, email: "a@b.com", phone: "1" }).expect(400)).body)).toEqual(["phone"]);
    expect(fieldsOf((await t.api.post("/api/contacts").send({ companyId: "nope", email: "a@b.com" }).expect(400)).body)).toEqual(["companyId"]);
  });

  it("When the same email is added to the same company twice, then the API answers 409 contact_exists", async () => {
    const companyId = await createCompany();
    const first = await createContact({ companyId, email: "twice@acme.com" });
    const res = await t.api.post("/api/contacts").send({ companyId, email: "TWICE@acme.com" }).expect(409);
    expect(res.body.error).toMatchObject({ code: "contact_exists", details: { contactId: first.id } });
  });

  it("When the same email is added to two companies, then both contacts exist", async () => {
    await createContact({ companyId: await createCompany(), email: "shared@acme.com" });
    await createContact({ companyId: await createCompany(), email: "shared@acme.com" });
    const res = await t.api.get("/api/contacts?email=Shared@ACME.com").expect(200);
    expect(res.body.items).toHaveLength(2);
  });

  it("When contacts are listed by company, then only that company's contacts come back, pages following nextCursor", async () => {
    const companyId = await createCompany();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await createContact({ companyId })).id);
    await createContact({ companyId: await createCompany() });
    const first = await t.api.get(`/api/contacts?companyId=${companyId}&limit=2`).expect(200);
    expect(first.body.items).toHaveLength(2);
    const second = await t.api.get(`/api/contacts?companyId=${companyId}&limit=2&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body.nextCursor).toBeNull();
    expect([...first.body.items, ...second.body.items].map((c: { id: string }) => c.id).sort()).toEqual(ids.sort());
  });

  it("When a list filter is malformed, then the API answers 400 naming it", async () => {
    expect(fieldsOf((await t.api.get("/api/contacts?companyId=nope").expect(400)).body)).toEqual(["companyId"]);
  });

  it("When a contact is changed, then the answer shows the change", async () => {
    const companyId = await createCompany();
    const contact = await createContact({ companyId, name: "Old" });
    const res = await t.api.patch(`/api/contacts/${contact.id}`).send({ name: "New", email: "New@Acme.com" }).expect(200);
    expect(res.body).toMatchObject({ id: contact.id, name: "New", email: "new@acme.com", companyId });
  });

  it("When a change would give a company the same email twice, then the API answers 409", async () => {
    const companyId = await createCompany();
    await createContact({ companyId, email: "taken@acme.com" });
    const other = await createContact({ companyId });
    const res = await t.api.patch(`/api/contacts/${other.id}`).send({ email: "taken@acme.com" }).expect(409);
    expect(res.body.error.code).toBe("contact_exists");
  });

  it("When a contact moves to a company that does not exist, then the API answers 400 naming companyId", async () => {
    const contact = await createContact({ companyId: await createCompany() });
    const res = await t.api.patch(`/api/contacts/${contact.id}`).send({ companyId: randomUUID() }).expect(400);
    expect(fieldsOf(res.body)).toEqual(["companyId"]);
  });

  it("When a contact is deleted, then the API answers 204 and it is gone", async () => {
    const contact = await createContact({ companyId: await createCompany() });
    await t.api.delete(`/api/contacts/${contact.id}`).expect(204);
    await t.api.get(`/api/contacts/${contact.id}`).expect(404);
  });

  it("When an id is unknown or not a UUID, then the API answers 404", async () => {
    for (const id of [randomUUID(), "not-a-uuid"]) {
      await t.api.get(`/api/contacts/${id}`).expect(404);
      await t.api.patch(`/api/contacts/${id}`).send({ name: "X" }).expect(404);
      await t.api.delete(`/api/contacts/${id}`).expect(404);
    }
  });
});
