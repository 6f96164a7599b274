// While the database cannot be reached, nothing is accepted that could be lost and nothing
// answers 500: clients get 503 database_unavailable with Retry-After, intake included, so a
// sender or a PSA retries; when the database is back the same requests succeed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEmail } from "../../helpers/build-email.ts";
import { createOutageContext, type Outage } from "./database-outage.ts";

let outage: Outage;
let sourceId: string;
beforeAll(async () => {
  outage = await createOutageContext();
  sourceId = (await outage.t.api.post("/api/sources").send({ kind: "api", name: "Push", address: "push@mailgate.test", role: "system" }).expect(201)).body.id;
});
afterAll(async () => outage.close());

const postMail = (raw: string | Buffer) => outage.t.api.post(`/api/inbound?sourceId=${sourceId}`).set("Content-Type", "message/rfc822").send(raw);

describe("the API while the database is away", () => {
  it("When the database stops, then reads, writes and mail intake answer 503 database_unavailable with Retry-After", async () => {
    await outage.stopDatabase();
    const answers = [
      await outage.t.api.get("/api/companies"),
      await outage.t.api.post("/api/companies").send({ name: "Acme" }),
      await outage.t.api.get("/api/inbound-messages"),
      await postMail(buildEmail({ subject: "while the database is away" })),
    ];
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("database_unavailable");
      expect(res.body.error.message).toMatch(/Retry-After/);
      expect(res.headers["retry-after"]).toBe("5");
    }
    // Validation needs no database: a bad request still says what to fix.
    await outage.t.api.post("/api/companies").send({}).expect(400);
  });

  it("When the database comes back, then the same mail is accepted once and the outage is over", async () => {
    if (!outage.canRestart) return; // an embedded PGlite closed for the previous test stays closed
    await outage.startDatabase();
    const raw = buildEmail({ subject: "sent again after the outage", messageId: "<after-outage@acme.example>" });
    const first = await postMail(raw).expect(202);
    const again = await postMail(raw).expect(202);
    expect(again.body.id).toBe(first.body.id);
    await outage.t.api.get("/api/companies").expect(200);
    await expect.poll(() => outage.t.ctx.databaseOutage.ongoing(), { timeout: 5_000 }).toBe(false);
  });
});
