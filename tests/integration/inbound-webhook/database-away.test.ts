// While the database cannot be reached, a mail service posting mail is answered 503 with
// Retry-After (each of them retries a 5xx), and on Postgres the same post is stored once it is back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEmail } from "../../helpers/build-email.ts";
import { createOutageContext, type Outage } from "../ops/database-outage.ts";
import { basic, postmarkBody } from "./provider-requests.ts";

const PASSWORD = "a-long-basic-password-0123";
let outage: Outage;
let sourceId: string;
beforeAll(async () => {
  outage = await createOutageContext();
  const config = { provider: "postmark", user: "postmark", password: PASSWORD };
  sourceId = (await outage.t.api.post("/api/sources").send({ kind: "inbound-webhook", name: "Postmark", address: "pm@mailgate.test", role: "system", config }).expect(201)).body.id;
});
afterAll(async () => outage.close());

const post = (raw: Buffer) =>
  outage.t.anonymous.post(`/push/inbound/${sourceId}/postmark`).set("Authorization", basic("postmark", PASSWORD)).set("Content-Type", "application/json").send(JSON.stringify(postmarkBody(raw)));

describe("inbound webhooks while the database is away", () => {
  const raw = buildEmail({ subject: "posted during an outage", messageId: "<outage-webhook@acme.com>" });

  it("When the database stops, then a post is answered 503 database_unavailable with Retry-After", async () => {
    await outage.stopDatabase();
    const res = await post(raw);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("database_unavailable");
    expect(res.headers["retry-after"]).toBe("5");
  });

  it("When it comes back, then the service's retry is stored, once", async () => {
    if (!outage.canRestart) return; // PGlite cannot come back once closed
    await outage.startDatabase();
    const first = await post(raw).expect(200);
    const again = await post(raw).expect(200);
    expect(first.body.created).toBe(true);
    expect(again.body).toEqual({ id: first.body.id, created: false });
  });
});
