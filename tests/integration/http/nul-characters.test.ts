// A NUL character (U+0000) cannot be stored in a Postgres text or jsonb value: wherever a client
// can send one (a JSON string, an object key, a query parameter, a path segment), the API answers
// 400 validation_failed naming the field, never 500. Raw email keeps its NUL bytes: it is stored
// as bytes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEmail } from "../../helpers/build-email.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
const ids = { company: "", contact: "", tech: "", jobType: "", source: "", webhook: "" };

beforeAll(async () => {
  t = await createTestContext();
  const created = async (path: string, body: object) => ((await t.api.post(path).send(body).expect(201)).body as { id: string }).id;
  ids.company = await created("/api/companies", { name: "Acme Corporation", domains: ["acme.example"] });
  ids.contact = await created("/api/contacts", { companyId: ids.company, email: "john@acme.example" });
  ids.tech = await created("/api/techs", { name: "Alice", email: "alice@msp.example" });
  ids.jobType = await created("/api/job-types", { name: "Printer" });
  ids.source = await created("/api/sources", { kind: "api", name: "Push", address: "push@msp.example", role: "system" });
  ids.webhook = await created("/api/webhooks", { url: "http://127.0.0.1:9/hook" });
});
afterAll(async () => t.close());

const NUL = "a\u0000b";
type Method = "get" | "post" | "put" | "patch" | "delete";
type Case = { method: Method; path: () => string; body?: () => object; field: string };

const imap = (over: Record<string, unknown>) => ({
  kind: "imap",
  name: "Inbox",
  address: "inbox@msp.example",
  role: "system",
  imap: { host: "imap.example.com", user: "inbox", password: "secret", ...over },
});

// Every JSON route that takes strings, with a NUL in one of them.
const bodyCases: [string, Case][] = [
  ["POST /api/companies name", { method: "post", path: () => "/api/companies", body: () => ({ name: NUL }), field: "name" }],
  ["POST /api/companies domains", { method: "post", path: () => "/api/companies", body: () => ({ name: "Beta", domains: ["beta.example", NUL] }), field: "domains.1" }],
  ["POST /api/companies object key", { method: "post", path: () => "/api/companies", body: () => ({ name: "Gamma", [NUL]: true }), field: "a\\u0000b" }],
  ["PATCH /api/companies/:id name", { method: "patch", path: () => `/api/companies/${ids.company}`, body: () => ({ name: NUL }), field: "name" }],
  ["POST /api/companies/:id/domains domain", { method: "post", path: () => `/api/companies/${ids.company}/domains`, body: () => ({ domain: NUL }), field: "domain" }],
  ["POST /api/contacts name", { method: "post", path: () => "/api/contacts", body: () => ({ companyId: ids.company, email: "jane@acme.example", name: NUL }), field: "name" }],
  ["POST /api/contacts email", { method: "post", path: () => "/api/contacts", body: () => ({ companyId: ids.company, email: `${NUL}@acme.example` }), field: "email" }],
  ["PATCH /api/contacts/:id name", { method: "patch", path: () => `/api/contacts/${ids.contact}`, body: () => ({ name: NUL }), field: "name" }],
  ["POST /api/techs name", { method: "post", path: () => "/api/techs", body: () => ({ name: NUL, email: "bob@msp.example" }), field: "name" }],
  ["PATCH /api/techs/:id name", { method: "patch", path: () => `/api/techs/${ids.tech}`, body: () => ({ name: NUL }), field: "name" }],
  ["POST /api/job-types name", { method: "post", path: () => "/api/job-types", body: () => ({ name: NUL }), field: "name" }],
  ["PATCH /api/job-types/:id name", { method: "patch", path: () => `/api/job-types/${ids.jobType}`, body: () => ({ name: NUL }), field: "name" }],
  ["PUT /api/settings defaultJobType", { method: "put", path: () => "/api/settings", body: () => ({ defaultJobType: NUL }), field: "defaultJobType" }],
  ["PUT /api/settings ticketSubjectTag", { method: "put", path: () => "/api/settings", body: () => ({ ticketSubjectTag: NUL }), field: "ticketSubjectTag" }],
  [
    "PUT /api/settings attachments.allowedTypes",
    { method: "put", path: () => "/api/settings", body: () => ({ attachments: { mode: "save", maxBytes: 1024, allowedTypes: [".pdf", NUL] } }), field: "attachments.allowedTypes.1" },
  ],
  ["POST /api/sources name", { method: "post", path: () => "/api/sources", body: () => ({ kind: "api", name: NUL, address: "n@msp.example", role: "system" }), field: "name" }],
  ["POST /api/sources address", { method: "post", path: () => "/api/sources", body: () => ({ kind: "api", name: "N", address: `${NUL}@msp.example`, role: "system" }), field: "address" }],
  ["POST /api/sources imap.host", { method: "post", path: () => "/api/sources", body: () => imap({ host: NUL }), field: "imap.host" }],
  ["POST /api/sources imap.password", { method: "post", path: () => "/api/sources", body: () => imap({ password: NUL }), field: "imap.password" }],
  ["PATCH /api/sources/:id name", { method: "patch", path: () => `/api/sources/${ids.source}`, body: () => ({ name: NUL }), field: "name" }],
  ["POST /api/webhooks description", { method: "post", path: () => "/api/webhooks", body: () => ({ url: "http://127.0.0.1:9/hook", description: NUL }), field: "description" }],
  ["POST /api/webhooks url", { method: "post", path: () => "/api/webhooks", body: () => ({ url: `http://127.0.0.1:9/${NUL}` }), field: "url" }],
  ["PATCH /api/webhooks/:id description", { method: "patch", path: () => `/api/webhooks/${ids.webhook}`, body: () => ({ description: NUL }), field: "description" }],
];

// Query parameters, on the admin API and on the public OAuth callbacks.
const queryCases: [string, Case][] = [
  ["GET /api/errors ?kind", { method: "get", path: () => "/api/errors?kind=a%00b", field: "kind" }],
  ["GET /api/errors ?sourceId", { method: "get", path: () => "/api/errors?sourceId=a%00b", field: "sourceId" }],
  ["GET /api/companies ?cursor", { method: "get", path: () => "/api/companies?cursor=a%00b", field: "cursor" }],
  ["GET /api/contacts ?email", { method: "get", path: () => "/api/contacts?email=a%00b%40acme.example", field: "email" }],
  ["GET /api/techs ?active", { method: "get", path: () => "/api/techs?active=a%00b", field: "active" }],
  ["GET /api/tickets ?status", { method: "get", path: () => "/api/tickets?status=a%00b", field: "status" }],
  ["GET /api/inbound-messages ?status", { method: "get", path: () => "/api/inbound-messages?status=a%00b", field: "status" }],
  ["GET /api/webhooks/:id/deliveries ?status", { method: "get", path: () => `/api/webhooks/${ids.webhook}/deliveries?status=a%00b`, field: "status" }],
  ["GET /api/subscriptions ?sourceId", { method: "get", path: () => "/api/subscriptions?sourceId=a%00b", field: "sourceId" }],
  ["POST /api/subscriptions/renew ?sourceId", { method: "post", path: () => "/api/subscriptions/renew?sourceId=a%00b", field: "sourceId" }],
  ["GET /api/sources repeated ?x", { method: "get", path: () => "/api/sources?x=ok&x=a%00b", field: "x.1" }],
  ["GET Google OAuth callback ?state", { method: "get", path: () => "/admin/oauth/google/callback?code=c&state=a%00b", field: "state" }],
  ["GET Microsoft OAuth callback ?state", { method: "get", path: () => "/admin/oauth/microsoft/callback?code=c&state=a%00b", field: "state" }],
];

// Path parameters: a NUL in any segment.
const pathCases: [string, Case][] = [
  ["GET /api/companies/:id", { method: "get", path: () => "/api/companies/a%00b", field: "path" }],
  ["PATCH /api/companies/:id", { method: "patch", path: () => "/api/companies/a%00b", body: () => ({ name: "X" }), field: "path" }],
  ["DELETE /api/companies/:id/domains/:domain", { method: "delete", path: () => `/api/companies/${ids.company}/domains/a%00b.example`, field: "path" }],
  ["GET /api/contacts/:id", { method: "get", path: () => "/api/contacts/a%00b", field: "path" }],
  ["GET /api/sources/:id", { method: "get", path: () => "/api/sources/a%00b", field: "path" }],
  ["POST /api/sources/:id/test", { method: "post", path: () => "/api/sources/a%00b/test", field: "path" }],
  ["GET /api/tickets/:id", { method: "get", path: () => "/api/tickets/a%00b", field: "path" }],
  ["GET /api/attachments/:id/content", { method: "get", path: () => "/api/attachments/a%00b/content", field: "path" }],
  ["POST /api/inbound-messages/:id/reprocess", { method: "post", path: () => "/api/inbound-messages/a%00b/reprocess", field: "path" }],
  ["DELETE /api/webhooks/:id", { method: "delete", path: () => "/api/webhooks/a%00b", field: "path" }],
  ["POST /api/webhook-deliveries/:id/redeliver", { method: "post", path: () => "/api/webhook-deliveries/a%00b/redeliver", field: "path" }],
];

describe("a NUL character in a request", () => {
  it.each([...bodyCases, ...queryCases, ...pathCases])("When %s holds one, then the API answers 400 naming the field", async (_name, c) => {
    const req = t.api[c.method](c.path());
    const res = c.body ? await req.send(c.body()) : await req;
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details).toContainEqual({ field: c.field, message: expect.stringMatching(/NUL/) });
    expect(res.body.error.message).toContain(c.field);
  });

  it("When the raw intake's sourceId holds one, then it answers 400 naming it, before reading the email", async () => {
    const res = await t.api.post("/api/inbound?sourceId=a%00b").set("Content-Type", "message/rfc822").send(buildEmail()).expect(400);
    expect(res.body.error.details).toEqual([{ field: "sourceId", message: expect.stringMatching(/NUL/) }]);
  });

  it("When a Graph notification holds one, then /push/graph answers 400 naming the field, not 500", async () => {
    for (const path of ["/push/graph", "/push/graph/lifecycle"]) {
      const res = await t.anonymous
        .post(path)
        .set("Content-Type", "application/json")
        .send({ value: [{ subscriptionId: NUL, clientState: "x", changeType: "created", lifecycleEvent: "missed", resource: "Users/u/Messages/m" }] });
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error).toMatchObject({ code: "invalid_notification", message: expect.stringContaining("value.0.subscriptionId") });
    }
  });

  it("When a list cursor decodes to an id that is not a UUID (a NUL, or anything else), then the list answers 400 naming cursor", async () => {
    for (const id of ["a\u0000b", "x"]) {
      const cursor = Buffer.from(`2026-01-01T00:00:00.000Z|${id}`).toString("base64url");
      for (const path of ["/api/companies", "/api/tickets", "/api/errors", "/api/inbound-messages"]) {
        const res = await t.api.get(`${path}?cursor=${cursor}`);
        expect(res.status, `${path} ${JSON.stringify(id)}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.error.details).toEqual([{ field: "cursor", message: expect.any(String) }]);
      }
    }
  });

  it("When a body holds several, then every one is named", async () => {
    const res = await t.api.post("/api/sources").send(imap({ host: NUL, password: NUL })).expect(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(["imap.host", "imap.password"]);
  });

  it("When the request is refused, then nothing was stored", async () => {
    const list = await t.api.get("/api/companies").expect(200);
    expect(list.body.items.map((c: { name: string }) => c.name)).toEqual(["Acme Corporation"]);
  });

  it("When a raw email holds NUL bytes, then intake still stores it byte for byte", async () => {
    const raw = Buffer.concat([Buffer.from(buildEmail({ from: "john@acme.example", subject: "Nul" })), Buffer.from("tail\u0000bytes\r\n")]);
    const res = await t.api.post(`/api/inbound?sourceId=${ids.source}`).set("Content-Type", "message/rfc822").send(raw).expect(202);
    const stored = await t.api
      .get(`/api/inbound-messages/${res.body.id}/raw`)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on("data", (chunk: Buffer) => chunks.push(chunk));
        r.on("end", () => cb(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(Buffer.compare(stored.body as Buffer, raw)).toBe(0);
  });
});
