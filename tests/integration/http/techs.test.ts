// Techs through the admin API, on the real database.
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

async function createTech(body: Record<string, unknown> = {}) {
  const n = ++serial;
  const res = await t.api.post("/api/techs").send({ name: `Tech ${n}`, email: `tech${n}@msp.test`, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string; email: string; active: boolean; createdAt: string; updatedAt: string };
}

describe("techs", () => {
  it("When a tech is created, then the answer is 201, active by default, with a lower-cased email", async () => {
    const res = await t.api.post("/api/techs").send({ name: " Dana ", email: "Dana@MSP.test" }).expect(201);
    expect(res.body).toMatchObject({ name: "Dana", email: "dana@msp.test", active: true });
    expect(new Date(res.body.updatedAt).toISOString()).toBe(res.body.updatedAt);
    expect((await t.api.get(`/api/techs/${res.body.id}`).expect(200)).body).toEqual(res.body);
  });

  it("When the request has no token, then the API answers 401", async () => {
    await t.anonymous.get("/api/techs").expect(401);
  });

  it("When a field is missing, wrong or unknown, then the API answers 400 naming it", async () => {
    expect(fieldsOf((await t.api.post("/api/techs").send({ email: "a@msp.test" }).expect(400)).body)).toEqual(["name"]);
    expect(fieldsOf((await t.api.post("/api/techs").send({ name: "A", email: "nope" }).expect(400)).body)).toEqual(["email"]);
    expect(fieldsOf((await t.api.post("/api/techs").send({ name: "A", email: "a@msp.test", active: "yes" }).expect(400)).body)).toEqual(["active"]);
    expect(fieldsOf((await t.api.post("/api/techs").send({ name: "A", email: "a@msp.test", team: 1 }).expect(400)).body)).toEqual(["team"]);
  });

  it("When a second tech uses a taken email, then the API answers 409", async () => {
    const first = await createTech({ email: "dup@msp.test" });
    const res = await t.api.post("/api/techs").send({ name: "Copy", email: "DUP@msp.test" }).expect(409);
    expect(res.body.error).toMatchObject({ code: "tech_exists", details: { techId: first.id } });
    await createTech();
    const other = await createTech();
    expect((await t.api.patch(`/api/techs/${other.id}`).send({ email: "dup@msp.test" }).expect(409)).body.error.code).toBe("tech_exists");
  });

  it("When techs are read two at a time, then following nextCursor visits each once", async () => {
    const fresh = await createTestContext();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await fresh.api.post("/api/techs").send({ name: `T${i}`, email: `t${i}@msp.test` }).expect(201)).body.id);
      const first = await fresh.api.get("/api/techs?limit=2").expect(200);
      expect(first.body.items).toHaveLength(2);
      const second = await fresh.api.get(`/api/techs?limit=2&cursor=${first.body.nextCursor}`).expect(200);
      expect(second.body.nextCursor).toBeNull();
      expect([...first.body.items, ...second.body.items].map((x: { id: string }) => x.id).sort()).toEqual(ids.sort());
    } finally {
      await fresh.close();
    }
  });

  it("When a tech is deactivated, then the answer says so", async () => {
    const tech = await createTech();
    const res = await t.api.patch(`/api/techs/${tech.id}`).send({ active: false }).expect(200);
    expect(res.body).toMatchObject({ id: tech.id, active: false });
  });

  it("When new tickets are auto-assigned to a tech, then deactivating or deleting it answers 409", async () => {
    const tech = await createTech();
    await t.api.put("/api/settings").send({ autoAssign: { mode: "specific", techId: tech.id } }).expect(200);
    expect((await t.api.patch(`/api/techs/${tech.id}`).send({ active: false }).expect(409)).body.error.code).toBe("tech_in_use");
    expect((await t.api.delete(`/api/techs/${tech.id}`).expect(409)).body.error.code).toBe("tech_in_use");
    await t.api.put("/api/settings").send({ autoAssign: { mode: "none" } }).expect(200);
    await t.api.delete(`/api/techs/${tech.id}`).expect(204);
  });

  it("When a tech is deleted, then the API answers 204 and it is gone", async () => {
    const tech = await createTech();
    await t.api.delete(`/api/techs/${tech.id}`).expect(204);
    await t.api.get(`/api/techs/${tech.id}`).expect(404);
  });

  it("When an id is unknown or not a UUID, then the API answers 404", async () => {
    for (const id of [randomUUID(), "12345"]) {
      await t.api.get(`/api/techs/${id}`).expect(404);
      await t.api.patch(`/api/techs/${id}`).send({ name: "X" }).expect(404);
      await t.api.delete(`/api/techs/${id}`).expect(404);
    }
  });
});
