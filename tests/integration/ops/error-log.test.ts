// GET /api/errors: the guide's "Admin → System → Error Log", read from the real error_log table.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorLog } from "../../../src/db/schema.ts";
import { startDispatcher } from "../../../src/delivery/dispatcher.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

type Entry = { id: string; at: string; sourceId: string | null; kind: string; message: string; details: unknown };

let t: TestContext;
let imapId: string;
let gmailId: string;

const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  // One attempt only: a delivery the receiver refuses is exhausted, and logged, at once.
  t = await createTestContext({ env: { WEBHOOK_RETRY_SCHEDULE: "0" } });
  imapId = await createSource(t, { name: "IMAP box", address: "imap@mailgate.test" });
  gmailId = await createSource(t, { name: "Gmail box", address: "gmail@mailgate.test" });
  await t.ctx.db.insert(errorLog).values([
    { at: at("2026-01-01T09:00:00Z"), sourceId: imapId, kind: "connection_failed", message: "IMAP login refused", details: { code: "auth" } },
    { at: at("2026-01-02T09:00:00Z"), sourceId: gmailId, kind: "renewal_failed", message: "Gmail watch renewal failed", details: null },
    { at: at("2026-01-03T09:00:00Z"), sourceId: imapId, kind: "message_failed", message: "The message cannot be parsed", details: { inboundMessageId: "x" } },
    { at: at("2026-01-03T09:00:00Z"), sourceId: imapId, kind: "message_failed", message: "Processing failed", details: null },
    { at: at("2026-01-04T09:00:00Z"), sourceId: null, kind: "delivery_failed", message: "Webhook delivery gave up", details: null },
  ]);
});
afterAll(async () => t.close());

const list = async (query: string) => (await t.api.get(`/api/errors${query}`).expect(200)).body as { items: Entry[]; nextCursor: string | null };

describe("GET /api/errors", () => {
  it("When errors were logged, then they are listed newest first with time, source, kind, message and details", async () => {
    const { items, nextCursor } = await list("?until=2026-02-01");
    expect(nextCursor).toBeNull();
    expect(items.map((e) => e.at)).toEqual([
      "2026-01-04T09:00:00.000Z",
      "2026-01-03T09:00:00.000Z",
      "2026-01-03T09:00:00.000Z",
      "2026-01-02T09:00:00.000Z",
      "2026-01-01T09:00:00.000Z",
    ]);
    expect(items[4]).toEqual({
      id: expect.any(String),
      at: "2026-01-01T09:00:00.000Z",
      sourceId: imapId,
      kind: "connection_failed",
      message: "IMAP login refused",
      details: { code: "auth" },
    });
  });

  it("When filtered by source, then only that source's errors are listed", async () => {
    const { items } = await list(`?sourceId=${gmailId}`);
    expect(items.map((e) => e.message)).toEqual(["Gmail watch renewal failed"]);
  });

  it("When filtered by kind, then only that kind is listed", async () => {
    const { items } = await list("?kind=message_failed");
    expect(items).toHaveLength(2);
    expect(items.every((e) => e.kind === "message_failed" && e.sourceId === imapId)).toBe(true);
  });

  it("When filtered by a time window, then since is inclusive and until exclusive", async () => {
    const { items } = await list("?since=2026-01-02T09:00:00Z&until=2026-01-04T09:00:00Z");
    expect(items.map((e) => e.at)).toEqual(["2026-01-03T09:00:00.000Z", "2026-01-03T09:00:00.000Z", "2026-01-02T09:00:00.000Z"]);
    const byDate = await list("?since=2026-01-03&until=2026-01-04");
    expect(byDate.items).toHaveLength(2);
  });

  it("When read one entry per page, then the cursor walks every entry once, even two logged at the same instant", async () => {
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page: { items: Entry[]; nextCursor: string | null } = await list(`?until=2026-02-01&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it("When since or until is not a time, then the answer is 400 naming the field and the expected form", async () => {
    const res = await t.api.get("/api/errors?since=yesterday").expect(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details).toEqual([{ field: "since", message: expect.stringMatching(/ISO 8601/) }]);
    const until = await t.api.get("/api/errors?until=2026-13-45T99:00:00Z").expect(400);
    expect(until.body.error.details[0].field).toBe("until");
  });

  it("When until is not after since, or the source id or a parameter is wrong, then the answer is 400 naming it", async () => {
    const window = await t.api.get("/api/errors?since=2026-01-05&until=2026-01-01").expect(400);
    expect(window.body.error.details).toEqual([{ field: "until", message: "must be later than since" }]);
    const source = await t.api.get("/api/errors?sourceId=imap").expect(400);
    expect(source.body.error.details[0].field).toBe("sourceId");
    const unknown = await t.api.get("/api/errors?severity=high").expect(400);
    expect(unknown.body.error.details[0].field).toBe("severity");
  });

  it("When called without the admin token, then the answer is 401", async () => {
    await t.anonymous.get("/api/errors").expect(401);
  });

  it("When a webhook delivery gives up, then the error log shows it as delivery_failed", async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.statusCode = 500;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const endpoint = (await t.api.post("/api/webhooks").send({ url, events: ["ticket.created"] }).expect(201)).body as { id: string };
    await createCompany(t, "Acme Corporation", ["acme.com"]);
    const dispatcher = startDispatcher(t.ctx, { pollMs: 50 });
    try {
      await deliver(t, imapId, buildEmail({ from: "john@acme.com", subject: "Refused downstream" }));
      const deadline = Date.now() + 10_000;
      let logged: Entry[] = [];
      while (logged.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        logged = (await list("?kind=delivery_failed&since=2026-02-01")).items;
      }
      expect(logged).toHaveLength(1);
      expect(logged[0]!.message).toMatch(/gave up: HTTP 500/);
      expect(logged[0]!.details).toMatchObject({ endpointId: endpoint.id });
    } finally {
      await dispatcher.stop();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
