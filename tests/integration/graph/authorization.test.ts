// Authorizing a Microsoft 365 source: the code flow with PKCE and a single-use state, tokens
// sealed, refresh tokens rotated, and a subscription created after Graph's validation handshake.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { mailSources } from "../../../src/db/schema.ts";
import type { GraphSecrets } from "../../../src/sources/source-config.ts";
import { GRAPH_READ_SCOPES } from "../../../src/sources/graph/graph-endpoints.ts";
import { graphAccessToken } from "../../../src/sources/graph/graph-tokens.ts";
import { openGraphSession } from "../../../src/sources/graph/graph-session.ts";
import { startGraphHarness, type GraphHarness } from "./graph-harness.ts";

let h: GraphHarness;
beforeAll(async () => {
  h = await startGraphHarness();
});
afterAll(async () => h.close());

const secretsOf = async (sourceId: string) => {
  const [row] = await h.t.ctx.db.select({ secrets: mailSources.secrets }).from(mailSources).where(eq(mailSources.id, sourceId));
  return h.t.ctx.secrets.openJson<GraphSecrets & { tokens?: { refreshToken: string; expiresAt: string } }>(row!.secrets!);
};

describe("authorizing a Microsoft 365 source", () => {
  it("When the administrator authorizes, then the consent URL carries the tenant, PKCE S256, a state and the five scopes", async () => {
    const id = await h.createGraphSource();
    const res = await h.t.api.post(`/api/sources/${id}/authorize`).send({}).expect(200);
    const url = new URL(res.body.authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${h.fake.loginUrl}/${h.fake.app.tenantId}/oauth2/v2.0/authorize`);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("state")?.length).toBeGreaterThanOrEqual(43);
    expect(url.searchParams.get("scope")).toBe("offline_access Mail.Read Mail.ReadWrite Mail.Send User.Read");
    expect(url.searchParams.get("redirect_uri")).toBe(`${h.publicUrl}/admin/oauth/microsoft/callback`);
  });

  it("When consent completes, then tokens are stored sealed and a subscription exists after a real validation handshake", async () => {
    const id = await h.createGraphSource();
    const page = await h.authorize(id);
    expect(page.status).toBe(200);
    expect(page.html).toContain("Real-time notifications are on");

    const secrets = await secretsOf(id);
    expect(secrets.tokens?.refreshToken).toBe(h.fake.identity.issuedRefreshTokens.at(-1));
    const [raw] = await h.t.ctx.db.select({ secrets: mailSources.secrets, status: mailSources.status }).from(mailSources).where(eq(mailSources.id, id));
    expect(raw!.secrets!.toString("latin1")).not.toContain(secrets.tokens!.refreshToken);
    expect(raw!.status).toBe("connected");

    const sub = await h.subscriptionOf(id);
    expect(sub).toBeDefined();
    const atGraph = h.fake.subscriptions.all.get(sub!.externalId)!;
    expect(atGraph.notificationUrl).toBe(`${h.publicUrl}/push/graph`);
    expect(atGraph.lifecycleNotificationUrl).toBe(`${h.publicUrl}/push/graph/lifecycle`);
    expect(atGraph.immutableIds).toBe(true);
    expect(atGraph.clientState!.length).toBeLessThanOrEqual(128);
    expect(h.t.ctx.secrets.open(sub!.clientState!)).toBe(atGraph.clientState);
    expect(sub!.expiresAt!.toISOString()).toBe(atGraph.expirationDateTime);
    const validations = h.fake.subscriptions.deliveries.filter((d) => d.url.includes("validationToken="));
    expect(validations.map((d) => [new URL(d.url).pathname, d.status])).toEqual(
      expect.arrayContaining([
        ["/push/graph", 200],
        ["/push/graph/lifecycle", 200],
      ]),
    );
  });

  it("When the same callback is replayed, then the single-use state is refused", async () => {
    const id = await h.createGraphSource();
    const res = await h.t.api.post(`/api/sources/${id}/authorize`).send({}).expect(200);
    const callback = await h.fake.consent(res.body.authorizationUrl as string);
    expect((await fetch(callback)).status).toBe(200);
    const replay = await fetch(callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("expired or was already used");
  });

  it("When the access token is refreshed, then the rotated refresh token is stored in place of the used one", async () => {
    const id = await h.createGraphSource();
    await h.authorize(id);
    const before = (await secretsOf(id)).tokens!.refreshToken;
    h.fake.identity.expireAccessTokens();
    await h.expireStoredAccessToken(id);
    await graphAccessToken(h.t.ctx, id);
    const after = (await secretsOf(id)).tokens!.refreshToken;
    expect(after).not.toBe(before);
    expect(after).toBe(h.fake.identity.issuedRefreshTokens.at(-1));
  });

  it("When a source authorized before Mail.Send refreshes its token, then it asks only for its grant and keeps reading", async () => {
    const id = await h.createGraphSource();
    await h.authorize(id, { scope: GRAPH_READ_SCOPES });
    expect((await secretsOf(id)).tokens).toMatchObject({ scope: expect.not.stringContaining("Mail.Send") });
    h.fake.identity.expireAccessTokens();
    await h.expireStoredAccessToken(id);
    const test = await h.t.api.post(`/api/sources/${id}/test`).send({}).expect(200);
    expect(test.body).toMatchObject({ ok: true, details: { mailbox: h.fake.user.mail } });
    const source = await h.t.api.get(`/api/sources/${id}`).expect(200);
    expect(source.body.status).toBe("connected");
  });

  it("When Microsoft answers invalid_grant, then the source needs re-authorization and says so", async () => {
    const id = await h.createGraphSource();
    await h.authorize(id);
    h.fake.identity.revokeGrants();
    await h.expireStoredAccessToken(id);
    const test = await h.t.api.post(`/api/sources/${id}/test`).send({}).expect(200);
    expect(test.body).toMatchObject({ ok: false, error: { code: "needs_reauth" } });
    const source = await h.t.api.get(`/api/sources/${id}`).expect(200);
    expect(source.body.status).toBe("needs_reauth");
    expect(source.body.lastError).toContain("click Authorize");
  });

  it("When Test Connection runs on an authorized source, then it reads the mailbox's profile", async () => {
    const id = await h.createGraphSource();
    await h.authorize(id);
    const res = await h.t.api.post(`/api/sources/${id}/test`).send({}).expect(200);
    expect(res.body).toEqual({ ok: true, details: { mailbox: h.fake.user.mail, displayName: h.fake.user.displayName } });
  });

  it("When the user declines consent, then the callback says so and the source stays unauthorized", async () => {
    const id = await h.createGraphSource();
    const res = await h.t.api.post(`/api/sources/${id}/authorize`).send({}).expect(200);
    const state = new URL(res.body.authorizationUrl).searchParams.get("state")!;
    const page = await fetch(
      `${h.publicUrl}/admin/oauth/microsoft/callback?error=access_denied&error_description=${encodeURIComponent("AADSTS65004: User declined to consent")}&state=${state}`,
    );
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("User declined to consent");
    const source = await h.t.api.get(`/api/sources/${id}`).expect(200);
    expect(source.body.graph.authorized).toBe(false);
    expect(await h.subscriptionOf(id)).toBeUndefined();
  });

  it("When Test Connection runs before authorization, then it says to click Authorize", async () => {
    const id = await h.createGraphSource();
    const res = await h.t.api.post(`/api/sources/${id}/test`).send({}).expect(200);
    expect(res.body).toMatchObject({ ok: false, error: { code: "not_authorized" } });
    expect(res.body.error.message).toContain("click Authorize");
  });

  it("When a subscription is created, then it asks for the configured lifetime and Graph's 10,070-minute cap holds", async () => {
    const id = await h.createGraphSource();
    const before = Date.now();
    await h.authorize(id);
    const sub = (await h.subscriptionOf(id))!;
    const minutes = (sub.expiresAt!.getTime() - before) / 60_000;
    expect(minutes).toBeGreaterThan(10_069);
    expect(minutes).toBeLessThanOrEqual(10_071);
    const session = openGraphSession(h.t.ctx, id);
    const tooLong = await session.client
      .api("/subscriptions")
      .post({
        changeType: "created",
        resource: "me/mailFolders('Inbox')/messages",
        notificationUrl: `${h.publicUrl}/push/graph`,
        lifecycleNotificationUrl: `${h.publicUrl}/push/graph/lifecycle`,
        expirationDateTime: new Date(Date.now() + 10_075 * 60_000).toISOString(),
      })
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(tooLong).toMatchObject({ statusCode: 400, code: "InvalidRequest" });
    expect((tooLong as Error).message).toContain("10070 minutes");
  });
});
