// The payloads the pipeline really writes to the outbox validate against the published JSON
// Schemas (webhooks/schemas), closed to undeclared fields, as a consumer would check them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { events } from "../../src/db/schema.ts";
import { SCHEMAS_DIR } from "../../scripts/generate-webhook-schemas.ts";
import { setSourceStatus } from "../../src/sources/source-status.ts";
import { buildEmail } from "../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../helpers/test-context.ts";

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== "object") return schema;
  const copy = Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [k, k === "properties" ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, closed(pv)])) : closed(v)]),
  );
  return "properties" in copy ? { ...copy, additionalProperties: false } : copy;
}

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

describe("payloads emitted by mailgate", () => {
  it("When tickets, replies, leads and source transitions happen, then every event written validates against its published schema", async () => {
    const source = await createSource(t);
    await createCompany(t, "Acme Corporation", ["acme.com"]);
    await t.api.post("/api/techs").send({ name: "Sam", email: "sam@msp.test" }).expect(201);
    await t.api.put("/api/settings").send({ autoAssign: { mode: "round_robin" } }).expect(200);
    const first = await deliver(
      t,
      source,
      buildEmail({
        from: "John <john@acme.com>",
        cc: ["boss@acme.com"],
        messageId: "<contract-1@acme.com>",
        attachments: [{ filename: "log.txt", contentType: "text/plain", content: "trace" }],
      }),
    );
    expect(first.status).toBe("ticket_created");
    await deliver(t, source, buildEmail({ from: "john@acme.com", inReplyTo: "<contract-1@acme.com>", html: "<p>thanks</p>" }));
    await t.api.put("/api/settings").send({ unmappedDomains: { mode: "lead" } }).expect(200);
    await deliver(t, source, buildEmail({ from: "buyer@prospect.io" }));
    await setSourceStatus(t.ctx, source, { status: "error", error: { code: "auth", message: "login failed" } });
    await setSourceStatus(t.ctx, source, { status: "connected" });
    await setSourceStatus(t.ctx, source, { status: "needs_reauth", error: { code: "invalid_grant", message: "token revoked" } });

    const rows = await t.ctx.db.select().from(events);
    const types = rows.map((r) => r.type).sort();
    expect(types).toEqual(["lead.created", "source.failed", "source.needs_reauth", "source.recovered", "ticket.created", "ticket.reply_received"]);
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    for (const row of rows) {
      const schema = JSON.parse(readFileSync(join(SCHEMAS_DIR, `${row.type}.schema.json`), "utf8"));
      const validate = ajv.compile(closed(schema) as object);
      const ok = validate(row.payload);
      expect(ok, `${row.type}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });
});
