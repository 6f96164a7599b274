import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

describe("health and auth", () => {
  it("answers /healthz and /readyz without a token", async () => {
    await t.anonymous.get("/healthz").expect(200, { ok: true });
    const ready = await t.anonymous.get("/readyz").expect(200);
    expect(ready.body.ok).toBe(true);
  });

  it("rejects /api calls without a bearer token with 401", async () => {
    const res = await t.anonymous.get("/api/companies").expect(401);
    expect(res.body.error.code).toBe("unauthorized");
  });

  it("rejects a wrong bearer token with 401", async () => {
    await t.anonymous.get("/api/companies").set("Authorization", "Bearer nope-nope-nope-nope").expect(401);
  });

  it("answers an unknown route with 404 in the error format", async () => {
    const res = await t.api.get("/api/nothing-here").expect(404);
    expect(res.body.error).toMatchObject({ code: "not_found" });
  });
});
