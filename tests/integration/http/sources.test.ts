import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { companies, inboundMessages, mailSources, pushSubscriptions } from "../../../src/db/schema.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import type { InboundStatus } from "../../../src/db/statuses.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

const PASSWORD = "hunter2-very-secret";

const imapBody = (overrides: Record<string, unknown> = {}, imap: Record<string, unknown> = {}) => ({
  kind: "imap",
  name: "Support inbox",
  address: "Support@Example.com",
  role: "system",
  imap: { host: "imap.example.com", user: "support@example.com", password: PASSWORD, ...imap },
  ...overrides,
});

const gmailBody = (gmail: Record<string, unknown> = {}) => ({
  kind: "gmail",
  name: "Gmail support",
  address: "help@example.com",
  role: "system",
  gmail: {
    clientId: "client-1.apps.googleusercontent.com",
    clientSecret: "gmail-client-secret-xyz",
    redirectUri: "https://mailgate.example.com/admin/oauth/google/callback",
    ...gmail,
  },
});

const apiBody = (overrides: Record<string, unknown> = {}) => ({
  kind: "api",
  name: "Raw MIME",
  address: "api@example.com",
  role: "system",
  ...overrides,
});

async function createSource(body: Record<string, unknown>) {
  const res = await t.api.post("/api/sources").send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Record<string, unknown> & { id: string };
}

async function insertCompany(name = "Acme") {
  const [row] = await t.ctx.db.insert(companies).values({ name }).returning();
  return row!;
}

const fields = (res: { body: { error: { details: { field: string }[] } } }) => res.body.error.details.map((d) => d.field);

describe("source status", () => {
  it("When a push source has a subscription, then the source shows when it expires (list and one)", async () => {
    const created = await t.api.post("/api/sources").send({ kind: "api", name: "Push", address: "push@mailgate.test", role: "system" }).expect(201);
    expect(created.body.subscription).toBeNull();
    const expiresAt = new Date("2030-01-02T03:04:05.000Z");
    await t.ctx.db.insert(pushSubscriptions).values({ sourceId: created.body.id, provider: "graph", externalId: "sub-1", expiresAt });
    const one = (await t.api.get(`/api/sources/${created.body.id}`).expect(200)).body;
    expect(one.subscription).toMatchObject({ provider: "graph", status: "active", expiresAt: expiresAt.toISOString() });
    const listed = (await t.api.get("/api/sources?limit=500").expect(200)).body.items.find((s: { id: string }) => s.id === created.body.id);
    expect(listed.subscription.expiresAt).toBe(expiresAt.toISOString());
  });
});

describe("POST /api/sources", () => {
  it("creates an IMAP source with the guide's defaults, a lower-cased address and status connecting", async () => {
    const source = await createSource(imapBody());
    expect(source).toMatchObject({
      kind: "imap",
      name: "Support inbox",
      address: "support@example.com",
      role: "system",
      companyId: null,
      schedule: { mode: "continuous" },
      status: "connecting",
      lastError: null,
      lastProcessedAt: null,
      lastSyncAt: null,
      imap: {
        host: "imap.example.com",
        port: 993,
        security: "ssl",
        user: "support@example.com",
        folder: "INBOX",
        postProcess: { action: "none" },
        hasPassword: true,
      },
      messageCounts: { received: 0, ticket_created: 0, failed: 0 },
    });
    expect(source.imap).not.toHaveProperty("password");
  });

  it("stores the IMAP password sealed: neither the row nor any response holds it in plaintext", async () => {
    const source = await createSource(imapBody());
    const [row] = await t.ctx.db.select().from(mailSources).where(eq(mailSources.id, source.id));
    expect(JSON.stringify(row!.config)).not.toContain(PASSWORD);
    expect(row!.secrets).toBeInstanceOf(Buffer);
    expect(row!.secrets!.toString("utf8")).not.toContain(PASSWORD);
    expect(row!.secrets!.toString("latin1")).not.toContain(PASSWORD);
    expect(t.ctx.secrets.openJson<{ password: string }>(row!.secrets!)).toEqual({ password: PASSWORD });

    const one = await t.api.get(`/api/sources/${source.id}`).expect(200);
    const list = await t.api.get("/api/sources").expect(200);
    expect(JSON.stringify(source)).not.toContain(PASSWORD);
    expect(one.text).not.toContain(PASSWORD);
    expect(list.text).not.toContain(PASSWORD);
  });

  it("creates an api source that is connected at once and has no provider block", async () => {
    const source = await createSource(apiBody());
    expect(source).toMatchObject({ kind: "api", status: "connected" });
    expect(source).not.toHaveProperty("imap");
    const [row] = await t.ctx.db.select().from(mailSources).where(eq(mailSources.id, source.id));
    expect(row!.secrets).toBeNull();
  });

  it("creates a Gmail source whose client secret is shown only as a flag", async () => {
    const source = await createSource(gmailBody({ delivery: "pull", subscriptionName: "projects/p/subscriptions/mailgate" }));
    expect(source.gmail).toEqual({
      clientId: "client-1.apps.googleusercontent.com",
      redirectUri: "https://mailgate.example.com/admin/oauth/google/callback",
      delivery: "pull",
      subscriptionName: "projects/p/subscriptions/mailgate",
      postProcess: {},
      hasClientSecret: true,
      authorized: false,
    });
    expect(JSON.stringify(source)).not.toContain("gmail-client-secret-xyz");
  });

  it("creates a Microsoft 365 source", async () => {
    const source = await createSource({
      kind: "graph",
      name: "M365",
      address: "desk@contoso.com",
      role: "system",
      graph: { tenantId: "contoso.onmicrosoft.com", clientId: "app-1", clientSecret: "graph-secret", redirectUri: "https://m.example.com/admin/oauth/microsoft/callback" },
    });
    expect(source.graph).toEqual({
      tenantId: "contoso.onmicrosoft.com",
      clientId: "app-1",
      redirectUri: "https://m.example.com/admin/oauth/microsoft/callback",
      hasClientSecret: true,
      authorized: false,
    });
  });

  it("creates a company mailbox for an existing company", async () => {
    const company = await insertCompany();
    const source = await createSource(apiBody({ role: "company", companyId: company.id, address: "acme@support.example.com" }));
    expect(source).toMatchObject({ role: "company", companyId: company.id });
  });

  it("rejects a company mailbox without a company, or with a company that does not exist, naming companyId", async () => {
    const missing = await t.api.post("/api/sources").send(apiBody({ role: "company" })).expect(400);
    expect(fields(missing)).toEqual(["companyId"]);
    const unknown = await t.api
      .post("/api/sources")
      .send(apiBody({ role: "company", companyId: "00000000-0000-4000-8000-000000000000" }))
      .expect(400);
    expect(fields(unknown)).toEqual(["companyId"]);
    expect(unknown.body.error.message).toMatch(/POST \/api\/companies/);
  });

  it("rejects a company on a system mailbox", async () => {
    const company = await insertCompany("Globex");
    const res = await t.api.post("/api/sources").send(apiBody({ companyId: company.id })).expect(400);
    expect(fields(res)).toEqual(["companyId"]);
  });

  it("requires the kind's block and rejects the block of another kind", async () => {
    const missing = await t.api.post("/api/sources").send(imapBody({ imap: undefined })).expect(400);
    expect(fields(missing)).toEqual(["imap"]);
    const foreign = await t.api
      .post("/api/sources")
      .send(apiBody({ imap: { host: "h", user: "u", password: "p" } }))
      .expect(400);
    expect(fields(foreign)).toEqual(["imap"]);
  });

  it("rejects unknown fields, at the top and inside a block", async () => {
    const res = await t.api.post("/api/sources").send(imapBody({ colour: "blue" }, { tls: true })).expect(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(fields(res).sort()).toEqual(["colour", "imap.tls"]);
  });

  it("names every bad value: kind, address, port, security, and a move without a folder", async () => {
    const bad = await t.api.post("/api/sources").send({ kind: "pop3", name: "x", address: "not-an-email", role: "system" }).expect(400);
    expect(fields(bad).sort()).toEqual(["address", "kind"]);
    const imap = await t.api
      .post("/api/sources")
      .send(imapBody({}, { port: 70000, security: "tls", postProcess: { action: "move" } }))
      .expect(400);
    expect(fields(imap).sort()).toEqual(["imap.port", "imap.postProcess.folder", "imap.security"]);
    const move = await t.api.post("/api/sources").send(imapBody({}, { postProcess: { action: "move" } })).expect(400);
    expect(fields(move)).toEqual(["imap.postProcess.folder"]);
  });

  it("says a missing field is required and what it takes, not that its value is wrong", async () => {
    const res = await t.api.post("/api/sources").send({ kind: "api", imap: undefined }).expect(400);
    expect(res.body.error.details).toEqual([
      { field: "name", message: "required: a string" },
      { field: "address", message: "required: a string" },
      { field: "role", message: 'required: one of "system", "company"' },
    ]);
    const nested = await t.api.post("/api/sources").send(imapBody({}, { host: undefined })).expect(400);
    expect(nested.body.error.details).toEqual([{ field: "imap.host", message: "required: a string" }]);
    // A value that is there but wrong keeps its own message.
    const wrong = await t.api.post("/api/sources").send(apiBody({ role: "sys" })).expect(400);
    expect(wrong.body.error.details[0].message).not.toMatch(/^required/);
  });

  it("requires a subscription for Gmail pull delivery", async () => {
    const res = await t.api.post("/api/sources").send(gmailBody({ delivery: "pull" })).expect(400);
    expect(fields(res)).toEqual(["gmail.subscriptionName"]);
  });

  it("accepts a schedule of cron expressions in an IANA time zone", async () => {
    const schedule = { mode: "scheduled", cron: ["0 8-18 * * 1-5", "*/30 * * * 6"], timezone: "Europe/Berlin" };
    const source = await createSource(apiBody({ schedule }));
    expect(source.schedule).toEqual(schedule);
  });

  it("rejects a cron expression without 5 fields and a time zone that does not exist", async () => {
    const res = await t.api
      .post("/api/sources")
      .send(apiBody({ schedule: { mode: "scheduled", cron: ["0 8 * *"], timezone: "Mars/Olympus_Mons" } }))
      .expect(400);
    expect(fields(res).sort()).toEqual(["schedule.cron.0", "schedule.timezone"]);
  });

  it("answers 401 without the admin token", async () => {
    await t.anonymous.post("/api/sources").send(apiBody()).expect(401);
    await t.anonymous.get("/api/sources").expect(401);
  });
});

describe("GET /api/sources", () => {
  it("lists sources newest first with their message counts by status, page by page", async () => {
    const a = await createSource(apiBody({ name: "counted A" }));
    await new Promise((resolve) => setTimeout(resolve, 5)); // distinct creation times make the order certain
    const b = await createSource(apiBody({ name: "counted B" }));
    const insertMessage = (sourceId: string, n: number, status: InboundStatus) =>
      t.ctx.db.insert(inboundMessages).values({
        sourceId,
        providerMessageId: `p-${n}`,
        raw: Buffer.from("x"),
        rawSize: 1,
        rawSha256: "0",
        status,
      });
    await insertMessage(a.id, 1, "ticket_created");
    await insertMessage(a.id, 2, "ticket_created");
    await insertMessage(a.id, 3, "failed");
    await insertMessage(b.id, 1, "received");

    const first = await t.api.get("/api/sources?limit=1").expect(200);
    expect(first.body.items.map((s: { id: string }) => s.id)).toEqual([b.id]);
    expect(first.body.items[0].messageCounts).toMatchObject({ received: 1, ticket_created: 0 });
    const second = await t.api.get(`/api/sources?limit=1&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body.items[0]).toMatchObject({ id: a.id, messageCounts: { ticket_created: 2, failed: 1, received: 0 } });

    const one = await t.api.get(`/api/sources/${a.id}`).expect(200);
    expect(one.body.messageCounts).toEqual({
      received: 0,
      ticket_created: 2,
      note_added: 0,
      lead_created: 0,
      duplicate: 0,
      ignored: 0,
      unrouted: 0,
      failed: 1,
    });
  });

  it("answers 404 for a source that does not exist or an id that is not a UUID", async () => {
    await t.api.get("/api/sources/00000000-0000-4000-8000-000000000000").expect(404);
    const res = await t.api.get("/api/sources/nope").expect(404);
    expect(res.body.error.code).toBe("not_found");
  });
});

describe("PATCH /api/sources/:id", () => {
  it("changes settings while keeping the stored password when none is given", async () => {
    const source = await createSource(imapBody());
    const res = await t.api
      .patch(`/api/sources/${source.id}`)
      .send({ name: "Renamed", imap: { port: 143, security: "starttls", postProcess: { action: "move", folder: "Done" } } })
      .expect(200);
    expect(res.body).toMatchObject({
      name: "Renamed",
      imap: { host: "imap.example.com", port: 143, security: "starttls", postProcess: { action: "move", folder: "Done" }, hasPassword: true },
    });
    const [row] = await t.ctx.db.select().from(mailSources).where(eq(mailSources.id, source.id));
    expect(t.ctx.secrets.openJson(row!.secrets!)).toEqual({ password: PASSWORD });
    expect(JSON.stringify(row!.config)).not.toContain(PASSWORD);
  });

  it("replaces the stored password when a new one is given, without echoing it", async () => {
    const source = await createSource(imapBody());
    const res = await t.api.patch(`/api/sources/${source.id}`).send({ imap: { password: "new-pass-42" } }).expect(200);
    expect(res.text).not.toContain("new-pass-42");
    const [row] = await t.ctx.db.select().from(mailSources).where(eq(mailSources.id, source.id));
    expect(t.ctx.secrets.openJson(row!.secrets!)).toEqual({ password: "new-pass-42" });
  });

  it("validates the merged settings, so a move without a folder is still rejected", async () => {
    const source = await createSource(imapBody());
    const res = await t.api.patch(`/api/sources/${source.id}`).send({ imap: { postProcess: { action: "move" } } }).expect(400);
    expect(fields(res)).toEqual(["imap.postProcess.folder"]);
  });

  it("refuses to change the kind and rejects another kind's block or unknown fields", async () => {
    const source = await createSource(apiBody());
    const res = await t.api
      .patch(`/api/sources/${source.id}`)
      .send({ kind: "imap", nickname: "x" })
      .expect(400);
    expect(fields(res).sort()).toEqual(["kind", "nickname"]);
    expect(res.body.error.message).toMatch(/kind: cannot change/);
    const block = await t.api.patch(`/api/sources/${source.id}`).send({ gmail: { clientId: "x" } }).expect(400);
    expect(fields(block)).toEqual(["gmail"]);
  });

  it("moves a mailbox between system and company roles", async () => {
    const company = await insertCompany("Initech");
    const source = await createSource(apiBody());
    const toCompany = await t.api.patch(`/api/sources/${source.id}`).send({ role: "company", companyId: company.id }).expect(200);
    expect(toCompany.body).toMatchObject({ role: "company", companyId: company.id });
    const toSystem = await t.api.patch(`/api/sources/${source.id}`).send({ role: "system" }).expect(200);
    expect(toSystem.body).toMatchObject({ role: "system", companyId: null });
    const noCompany = await t.api.patch(`/api/sources/${source.id}`).send({ role: "company" }).expect(400);
    expect(fields(noCompany)).toEqual(["companyId"]);
  });

  it("disables and re-enables a source", async () => {
    const source = await createSource(apiBody());
    const off = await t.api.patch(`/api/sources/${source.id}`).send({ enabled: false }).expect(200);
    expect(off.body.status).toBe("disabled");
    const on = await t.api.patch(`/api/sources/${source.id}`).send({ enabled: true }).expect(200);
    expect(on.body.status).toBe("connected");
  });

  it("answers 404 for a source that does not exist", async () => {
    await t.api.patch("/api/sources/00000000-0000-4000-8000-000000000000").send({ name: "x" }).expect(404);
  });
});

describe("DELETE /api/sources/:id", () => {
  it("deletes a source and keeps its messages, no longer linked", async () => {
    const source = await createSource(apiBody());
    const [message] = await t.ctx.db
      .insert(inboundMessages)
      .values({ sourceId: source.id, providerMessageId: "d-1", raw: Buffer.from("x"), rawSize: 1, rawSha256: "0" })
      .returning();
    await t.api.delete(`/api/sources/${source.id}`).expect(204);
    await t.api.get(`/api/sources/${source.id}`).expect(404);
    await t.api.delete(`/api/sources/${source.id}`).expect(404);
    const [kept] = await t.ctx.db.select().from(inboundMessages).where(eq(inboundMessages.id, message!.id));
    expect(kept!.sourceId).toBeNull();
  });
});

describe("POST /api/sources/:id/test, /process and /authorize", () => {
  it("tests an api source successfully", async () => {
    const source = await createSource(apiBody());
    const res = await t.api.post(`/api/sources/${source.id}/test`).expect(200);
    expect(res.body).toEqual({ ok: true, details: { kind: "api" } });
  });

  it("answers the test of a Gmail source that was never authorized with a not_authorized value rather than an error status", async () => {
    const source = await createSource(gmailBody());
    const res = await t.api.post(`/api/sources/${source.id}/test`).expect(200);
    expect(res.body).toMatchObject({ ok: false, error: { code: "not_authorized" } });
  });

  it("records a Process Now request and wakes the sync workers", async () => {
    const source = await createSource(imapBody());
    let woken = 0;
    const stop = t.ctx.database.onWake("sources", () => void woken++);
    const res = await t.api.post(`/api/sources/${source.id}/process`).expect(202);
    stop();
    expect(res.body).toEqual({ accepted: true });
    expect(woken).toBeGreaterThan(0);
    const [row] = await t.ctx.db.select().from(mailSources).where(eq(mailSources.id, source.id));
    expect(row!.syncRequestedAt).toBeInstanceOf(Date);
  });

  it("explains that only Gmail and Microsoft 365 sources authorize, and gives a Gmail source its consent URL", async () => {
    const imap = await createSource(imapBody());
    const res = await t.api.post(`/api/sources/${imap.id}/authorize`).expect(422);
    expect(res.body.error.code).toBe("not_oauth");
    const gmail = await createSource(gmailBody());
    const authorized = await t.api.post(`/api/sources/${gmail.id}/authorize`).expect(200);
    expect(authorized.body.authorizationUrl).toMatch(/^https:\/\/accounts\.google\.com\/o\/oauth2\/v2\/auth\?/);
  });

  it("answers 404 for actions on a source that does not exist, and 401 without the token", async () => {
    const missing = "00000000-0000-4000-8000-000000000000";
    await t.api.post(`/api/sources/${missing}/test`).expect(404);
    await t.api.post(`/api/sources/${missing}/process`).expect(404);
    await t.api.post(`/api/sources/${missing}/authorize`).expect(404);
    await t.anonymous.post(`/api/sources/${missing}/process`).expect(401);
  });
});
