// A source whose server cannot be reached: the connection status tells the truth from the first
// failed attempt (the guide's first troubleshooting step), the error log says it once however
// often mailgate retries, and source.failed waits for SOURCE_FAILED_WEBHOOK_DELAY_SECONDS.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { events } from "../../../src/db/schema.ts";
import type { Runtime } from "../../../src/runtime.ts";
import { startFailureAnnouncer } from "../../../src/sources/failure-announcer.ts";
import { startImapSources, type ImapSources } from "../../../src/sources/imap/imap-sources.ts";
import { freePort } from "../../fakes/dovecot/dovecot-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { sourceRow, TEST_BACKOFF, waitFor } from "./imap-fixture.ts";

const DELAY_S = 2;

describe("IMAP server unreachable", () => {
  let t: TestContext;
  let sources: ImapSources | undefined;
  let announcer: Runtime | undefined;

  beforeAll(async () => {
    t = await createTestContext({ env: { SOURCE_FAILED_WEBHOOK_DELAY_SECONDS: String(DELAY_S) } });
  });
  afterAll(async () => {
    await announcer?.stop();
    await sources?.stop();
    await t?.close();
  });

  const failedEvents = async (sourceId: string) =>
    t.ctx.db
      .select()
      .from(events)
      .where(and(eq(events.type, "source.failed"), sql`${events.payload}->'data'->'source'->>'id' = ${sourceId}`));
  const errorsOf = async (sourceId: string) => (await t.api.get(`/api/errors?sourceId=${sourceId}`).expect(200)).body.items as Array<{ kind: string; message: string }>;

  it("When the IMAP port is closed, then status and lastError say so within seconds with one error-log entry, and source.failed is sent once, after the delay", async () => {
    const port = await freePort();
    const created = await t.api
      .post("/api/sources")
      .send({ kind: "imap", name: "Closed port", address: "support@acme.test", role: "system", imap: { host: "127.0.0.1", port, security: "none", user: "support", password: "secret" } })
      .expect(201);
    const sourceId = created.body.id as string;
    const startedAt = Date.now();
    sources = startImapSources(t.ctx, { supervisor: { backoff: TEST_BACKOFF } });
    announcer = startFailureAnnouncer(t.ctx);

    const shown = await waitFor("the source to show the failure", async () => {
      const body = (await t.api.get(`/api/sources/${sourceId}`).expect(200)).body as { status: string; lastError: string | null };
      return body.lastError !== null && body;
    }, 5_000);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(shown.status).toBe("error");
    expect(shown.lastError).toContain(`127.0.0.1:${port}`);
    expect(shown.lastError).toContain("refused");
    const logged = await errorsOf(sourceId);
    expect(logged).toEqual([expect.objectContaining({ kind: "connection_failed", message: shown.lastError })]);
    const failingSince = (await sourceRow(t.ctx, sourceId)).failingSince!;
    if (Date.now() - failingSince.getTime() < DELAY_S * 1000) expect(await failedEvents(sourceId)).toHaveLength(0);

    // Retries every 100-400 ms meanwhile; the webhook comes once the failure has lasted the delay.
    const [failed] = await waitFor("source.failed", async () => {
      const rows = await failedEvents(sourceId);
      return rows.length > 0 && rows;
    }, 15_000);
    expect(failed!.createdAt.getTime() - failingSince.getTime()).toBeGreaterThanOrEqual(DELAY_S * 1000);
    expect((failed!.payload as { data: unknown }).data).toEqual({
      source: { id: sourceId, name: "Closed port", kind: "imap", address: "support@acme.test", status: "error" },
      error: { code: "refused", message: shown.lastError },
      at: expect.any(String),
    });

    await new Promise((r) => setTimeout(r, 1_500));
    expect(await failedEvents(sourceId)).toHaveLength(1);
    expect(await errorsOf(sourceId)).toHaveLength(1);
    expect((await sourceRow(t.ctx, sourceId)).status).toBe("error");
  });
});
