// Readiness follows the database: a load balancer stops sending traffic to an instance whose
// database does not answer, and sends it again once it does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutageContext, type Outage } from "./database-outage.ts";

let outage: Outage;
beforeAll(async () => {
  outage = await createOutageContext();
});
afterAll(async () => outage.close());

describe("GET /readyz", () => {
  it("When the database answers, then /readyz is 200 and names the backend", async () => {
    const res = await outage.t.anonymous.get("/readyz").expect(200);
    expect(res.body).toEqual({ ok: true, database: outage.t.ctx.database.kind });
  });

  it("When the database stops, then /readyz answers 503 not_ready while /healthz stays 200", async () => {
    await outage.stopDatabase();
    const res = await outage.t.anonymous.get("/readyz").expect(503);
    expect(res.body.error.code).toBe("not_ready");
    expect(res.body.error.message).toMatch(/DATABASE_URL/);
    await outage.t.anonymous.get("/healthz").expect(200);
  });

  it("When the database stops answering without closing its connections, then /readyz still answers 503 within a second", async () => {
    if (!outage.canRestart) return; // a silent network needs the proxy in front of Postgres
    await outage.startDatabase();
    await outage.t.anonymous.get("/readyz").expect(200);
    outage.silenceDatabase();
    const started = performance.now();
    const res = await outage.t.anonymous.get("/readyz").expect(503);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(res.headers["retry-after"]).toBe("5");
    await outage.stopDatabase(); // cuts the silenced connections; the next test starts it again
  });

  it("When the database comes back, then /readyz is 200 again without a restart", async () => {
    if (!outage.canRestart) return; // an embedded PGlite closed for the previous test stays closed
    await outage.startDatabase();
    await outage.t.anonymous.get("/readyz").expect(200);
  });
});
