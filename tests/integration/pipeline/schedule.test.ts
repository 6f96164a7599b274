// Processing schedules (the guide's "Processing Schedule"): scheduled sources keep mail and make
// tickets only inside their windows; a schedule change applies without a restart.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver, drainPipeline } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

// An injected clock years before the real one: intake stamps mail with the same clock the workers
// compare it with, so the real time of day plays no part (Berlin is on winter time on these dates).
const clock = { at: new Date("2021-11-27T22:00:00Z"), now() { return new Date(this.at); } }; // Saturday night
let t: TestContext;
let sourceId: string;

beforeAll(async () => {
  t = await createTestContext({ clock });
  await createCompany(t, "Acme Corporation", ["acme.com"]);
  sourceId = await createSource(t, { schedule: { mode: "scheduled", cron: ["* 8-17 * * 1-5"], timezone: "Europe/Berlin" } });
});
afterAll(async () => t.close());

describe("scheduled processing", () => {
  it("When mail arrives outside the business-hours window, then it waits and is ticketed when the window opens", async () => {
    const msg = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "weekend" }));
    expect(msg.status).toBe("received");
    expect((await t.api.get("/api/tickets").expect(200)).body.items).toHaveLength(0);

    clock.at = new Date("2021-11-29T06:59:00Z"); // Monday 07:59 in Berlin: still closed
    await drainPipeline(t);
    expect((await t.api.get(`/api/inbound-messages/${msg.id}`).expect(200)).body.status).toBe("received");

    clock.at = new Date("2021-11-29T07:00:30Z"); // Monday 08:00 in Berlin
    await drainPipeline(t);
    const after = (await t.api.get(`/api/inbound-messages/${msg.id}`).expect(200)).body;
    expect(after.status).toBe("ticket_created");
  });

  it("When the schedule changes to continuous, then waiting mail is processed without a restart", async () => {
    clock.at = new Date("2021-12-04T22:00:00Z"); // the next Saturday
    const msg = await deliver(t, sourceId, buildEmail({ from: "john@acme.com", subject: "saturday again" }));
    expect(msg.status).toBe("received");
    await t.api.patch(`/api/sources/${sourceId}`).send({ schedule: { mode: "continuous" } }).expect(200);
    await drainPipeline(t);
    expect((await t.api.get(`/api/inbound-messages/${msg.id}`).expect(200)).body.status).toBe("ticket_created");
  });

  it("When a cron expression is not valid, then the API answers 400 naming it", async () => {
    const res = await t.api
      .post("/api/sources")
      .send({ kind: "api", name: "x", address: "x@mailgate.test", role: "system", schedule: { mode: "scheduled", cron: ["0 25 * * *"], timezone: "UTC" } })
      .expect(400);
    expect(JSON.stringify(res.body.error.details)).toContain("schedule.cron.0");
  });
});
