import { afterEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { events } from "../../../src/db/schema.ts";
import type { GmailTokens } from "../../../src/sources/gmail/gmail-source.ts";
import { historyIdOf } from "../../../src/sources/gmail/sync-decision.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { drainPipeline } from "../../helpers/pipeline.ts";
import { authorizeThroughGoogle, sourceRow, startGmailFixture, storedMessages, ticketSubjects, waitFor, type GmailFixture } from "./gmail-fixture.ts";

let f: GmailFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const storedTokens = async (fx: GmailFixture) => fx.t.ctx.secrets.openJson<{ tokens: GmailTokens }>((await sourceRow(fx)).secrets!).tokens;

describe("Gmail tokens", () => {
  it("When the access token has expired, then it is refreshed, the new token is stored, and the mail still arrives", async () => {
    f = await startGmailFixture();
    const before = await storedTokens(f);
    f.google.oauth.expireAccessTokens();
    f.startRuntime();
    const { message } = await f.google.deliver(buildEmail({ from: "jane@acme.com", subject: "After expiry" }));
    await waitFor("the message", async () => (await storedMessages(f!)).some((m) => m.providerMessageId === message.id));
    const after = await waitFor("the refreshed token to be stored", async () => {
      const tokens = await storedTokens(f!);
      return tokens.access_token !== before.access_token ? tokens : null;
    });
    expect(after.refresh_token).toBe(before.refresh_token);
    expect(f.google.oauth.tokenRequests.filter((r) => r.grantType === "refresh_token" && r.ok).length).toBeGreaterThanOrEqual(1);
    expect((await sourceRow(f)).status).toBe("connected");

    // A restart uses the stored token as it is: no refresh needed.
    await f.stopRuntime();
    const refreshes = f.google.oauth.tokenRequests.length;
    const r = await f.t.api.post(`/api/sources/${f.sourceId}/test`).send({}).expect(200);
    expect(r.body.ok).toBe(true);
    expect(f.google.oauth.tokenRequests.length).toBe(refreshes);
  });

  it("When Google refuses the refresh token (invalid_grant), then the source needs re-authorization once, and re-authorizing catches up from the old cursor", async () => {
    f = await startGmailFixture({ pushToMailgate: false });
    await f.startRuntimeSettled();
    const cursorBefore = historyIdOf((await sourceRow(f)).cursor);
    f.google.oauth.revokeAll();
    f.google.mailbox.add(buildEmail({ from: "jane@acme.com", subject: "While revoked" }));
    for (let i = 0; i < 2; i++) {
      const p = f.google.pushRequest();
      await f.t.anonymous.post("/push/gmail").set(p.headers).send(p.body as object).expect(204);
    }
    const row = await waitFor("needs_reauth", async () => {
      const r = await sourceRow(f!);
      return r.status === "needs_reauth" ? r : null;
    });
    expect(row.lastError).toContain("Authorize");
    expect(historyIdOf(row.cursor)).toBe(cursorBefore);
    const reauthEvents = await f.t.ctx.db.select().from(events).where(eq(events.type, "source.needs_reauth"));
    expect(reauthEvents).toHaveLength(1);
    expect(await storedMessages(f)).toHaveLength(0);

    // "Re-authorize": the same button works again, and the mail that waited is fetched from the kept cursor.
    const callback = await authorizeThroughGoogle(f);
    expect(callback.status).toBe(200);
    await waitFor("the waiting message", async () => (await storedMessages(f!)).length === 1);
    expect((await sourceRow(f)).status).toBe("connected");
    expect(await f.t.ctx.db.select().from(events).where(eq(events.type, "source.recovered"))).toHaveLength(1);
    await drainPipeline(f.t);
    expect(await ticketSubjects(f)).toEqual(["While revoked"]);
  });
});
