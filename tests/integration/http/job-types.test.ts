// Job types through the admin API, on the real database.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDefaults } from "../../../src/db/settings.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

let serial = 0;
const fieldsOf = (body: { error: { details: { field: string }[] } }) => body.error.details.map((d) => d.field);

async function createJobType(body: Record<string, unknown> = {}) {
  const res = await t.api.post("/api/job-types").send({ name: `Job ${++serial}`, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string; defaultPriority: string | null; createdAt: string; updatedAt: string };
}

async function allJobTypes(): Promise<{ id: string; name: string; defaultPriority: string | null }[]> {
  return (await t.api.get("/api/job-types?limit=500").expect(200)).body.items;
}

describe("job types", () => {
  it("When the service starts, then the job type Support Request exists without a priority of its own", async () => {
    const seeded = (await allJobTypes()).filter((j) => j.name === "Support Request");
    expect(seeded).toEqual([expect.objectContaining({ name: "Support Request", defaultPriority: null })]);
  });

  it("When the defaults are seeded again, several at once, then there is still one Support Request", async () => {
    await Promise.all([seedDefaults(t.ctx.db), seedDefaults(t.ctx.db), seedDefaults(t.ctx.db)]);
    expect((await allJobTypes()).filter((j) => j.name === "Support Request")).toHaveLength(1);
  });

  it("When a job type is created with a priority, then the answer is 201 with it", async () => {
    const res = await t.api.post("/api/job-types").send({ name: "Server Down", defaultPriority: "urgent" }).expect(201);
    expect(res.body).toMatchObject({ name: "Server Down", defaultPriority: "urgent" });
    expect((await t.api.get(`/api/job-types/${res.body.id}`).expect(200)).body).toEqual(res.body);
    expect((await createJobType()).defaultPriority).toBeNull();
  });

  it("When the request has no token, then the API answers 401", async () => {
    await t.anonymous.get("/api/job-types").expect(401);
  });

  it("When a field is wrong or unknown, then the API answers 400 naming it", async () => {
    expect(fieldsOf((await t.api.post("/api/job-types").send({ name: "X", defaultPriority: "asap" }).expect(400)).body)).toEqual(["defaultPriority"]);
    expect(fieldsOf((await t.api.post("/api/job-types").send({ name: "" }).expect(400)).body)).toEqual(["name"]);
    expect(fieldsOf((await t.api.post("/api/job-types").send({ name: "X", colour: "red" }).expect(400)).body)).toEqual(["colour"]);
  });

  it("When a name is taken, then creating or renaming to it answers 409", async () => {
    await createJobType({ name: "Onboarding" });
    expect((await t.api.post("/api/job-types").send({ name: "Onboarding" }).expect(409)).body.error.code).toBe("job_type_exists");
    const other = await createJobType();
    expect((await t.api.patch(`/api/job-types/${other.id}`).send({ name: "Onboarding" }).expect(409)).body.error.code).toBe("job_type_exists");
  });

  it("When job types are read two at a time, then following nextCursor visits each once", async () => {
    const all = await allJobTypes();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.api
        .get(`/api/job-types?limit=2${cursor ? `&cursor=${cursor}` : ""}`)
        .expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((j) => j.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(all.map((j) => j.id).sort());
  });

  it("When a job type's priority is cleared, then it answers null", async () => {
    const job = await createJobType({ defaultPriority: "high" });
    const res = await t.api.patch(`/api/job-types/${job.id}`).send({ defaultPriority: null }).expect(200);
    expect(res.body).toMatchObject({ id: job.id, defaultPriority: null });
  });

  it("When the default job type is renamed, then the ticket rules follow the new name", async () => {
    const job = await createJobType({ name: "General" });
    await t.api.put("/api/settings").send({ defaultJobType: "General" }).expect(200);
    await t.api.patch(`/api/job-types/${job.id}`).send({ name: "General Support" }).expect(200);
    expect((await t.api.get("/api/settings").expect(200)).body.defaultJobType).toBe("General Support");
    await t.api.put("/api/settings").send({ defaultJobType: "Support Request" }).expect(200);
  });

  it("When the job type is the default of new tickets, then deleting it answers 409", async () => {
    const support = (await allJobTypes()).find((j) => j.name === "Support Request")!;
    expect((await t.api.delete(`/api/job-types/${support.id}`).expect(409)).body.error.code).toBe("job_type_in_use");
  });

  it("When another job type is deleted, then the API answers 204 and it is gone", async () => {
    const job = await createJobType();
    await t.api.delete(`/api/job-types/${job.id}`).expect(204);
    await t.api.get(`/api/job-types/${job.id}`).expect(404);
  });

  it("When an id is unknown or not a UUID, then the API answers 404", async () => {
    for (const id of [randomUUID(), "nope"]) {
      await t.api.get(`/api/job-types/${id}`).expect(404);
      await t.api.patch(`/api/job-types/${id}`).send({ name: "X" }).expect(404);
      await t.api.delete(`/api/job-types/${id}`).expect(404);
    }
  });
});
