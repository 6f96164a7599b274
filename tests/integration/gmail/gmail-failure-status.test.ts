// Gmail failing to answer: the source shows the reason from the first failed sync, logs it once,
// and announces it (source.failed, then source.recovered) only when it lasted the delay.
import { afterEach, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { events } from "../../../src/db/schema.ts";
import type { Runtime } from "../../../src/runtime.ts";
import { startFailureAnnouncer } from "../../../src/sources/failure-announcer.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { sourceRow, startGmailFixture, waitFor, type GmailFixture } from "./gmail-fixture.ts";

let f: GmailFixture | undefined;
let announcer: Runtime | undefined;
afterEach(async () => {
  await announcer?.stop();
  announcer = undefined;
  await f?.close();
  f = undefined;
});

const eventsOf = async (fx: GmailFixture, type: string) =>
  fx.t.ctx.db
    .select()
    .from(events)
    .where(and(eq(events.type, type), sql`${events.payload}->'data'->'source'->>'id' = ${fx.sourceId}`));
const errorsOf = async (fx: GmailFixture) =>
  (await fx.t.api.get(`/api/errors?sourceId=${fx.sourceId}`).expect(200)).body.items as Array<{ kind: string; message: string }>;

/** googleapis tries a request that answers 5xx four times before the sync sees the failure. */
const TRIES_PER_SYNC = 4;

/** New mail, then its notification: the first `syncs` syncs that read it fail. */
async function failSyncs(fx: GmailFixture, syncs: number): Promise<void> {
  await fx.google.deliver(buildEmail({ from: "jane@acme.com", subject: "While Gmail fails" }), { notify: false });
  fx.google.fail({ pathIncludes: "/history", status: 500, reason: "backendError", message: "Backend Error", times: syncs * TRIES_PER_SYNC });
  const p = fx.google.pushRequest();
  await fx.t.anonymous.post("/push/gmail").set(p.headers).send(p.body as object).expect(204);
}

describe("Gmail source failing", () => {
  it("When one sync fails and the next works, then the reason showed at once and is in the error log, and no webhook was sent", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    await f.startRuntimeSettled();
    announcer = startFailureAnnouncer(f.t.ctx);
    await failSyncs(f, 1);

    const shown = await waitFor("the failure on the source", async () => {
      const row = await sourceRow(f!);
      return row.status === "error" && row;
    }, 5_000);
    expect(shown.lastError).toContain("Gmail could not be reached (HTTP 500: Backend Error)");
    await waitFor("the source to connect again", async () => (await sourceRow(f!)).status === "connected");
    expect(await errorsOf(f)).toEqual([expect.objectContaining({ kind: "connection_failed", message: shown.lastError })]);
    expect(await eventsOf(f, "source.failed")).toHaveLength(0);
    expect(await eventsOf(f, "source.recovered")).toHaveLength(0);
  });

  it("When Gmail keeps failing longer than the delay, then source.failed is sent once after it, the log has one entry, and source.recovered follows", async () => {
    f = await startGmailFixture({ pushToMailgate: false, env: { SOURCE_FAILED_WEBHOOK_DELAY_SECONDS: "1" } });
    await f.startRuntimeSettled();
    announcer = startFailureAnnouncer(f.t.ctx);
    // Retried after about 1, 2 and 4 s: the fourth sync works.
    await failSyncs(f, 3);

    const shown = await waitFor("the failure on the source", async () => {
      const row = await sourceRow(f!);
      return row.status === "error" && row;
    }, 5_000);
    expect(await eventsOf(f, "source.failed")).toHaveLength(0);
    const [failed] = await waitFor("source.failed", async () => {
      const rows = await eventsOf(f!, "source.failed");
      return rows.length > 0 && rows;
    }, 10_000);
    expect(failed!.createdAt.getTime() - shown.failingSince!.getTime()).toBeGreaterThanOrEqual(1_000);
    expect((failed!.payload as { data: { error: unknown } }).data.error).toEqual({ code: "unavailable", message: shown.lastError });

    await waitFor("the source to connect again", async () => (await sourceRow(f!)).status === "connected", 20_000);
    expect(f.google.requests.filter((r) => r.path.startsWith("/gmail/v1/users/me/history") && r.status === 500)).toHaveLength(3 * TRIES_PER_SYNC);
    expect(await eventsOf(f, "source.failed")).toHaveLength(1);
    expect(await eventsOf(f, "source.recovered")).toHaveLength(1);
    expect(await errorsOf(f)).toHaveLength(1);
  });
});
