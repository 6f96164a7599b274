import { afterEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { oauthStates, pushSubscriptions } from "../../../src/db/schema.ts";
import { historyIdOf } from "../../../src/sources/gmail/sync-decision.ts";
import { TOPIC } from "../../fakes/google/fake-google.ts";
import { authorizeThroughGoogle, sourceRow, startGmailFixture, type GmailFixture } from "./gmail-fixture.ts";

let f: GmailFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

describe("Gmail authorization", () => {
  it("When an administrator authorizes a Gmail source, then the consent URL asks for offline Gmail access with state and PKCE, and the callback connects the source, stores the tokens sealed, watches the inbox and takes the first cursor", async () => {
    f = await startGmailFixture({ authorize: false });
    const before = await sourceRow(f);
    expect(before.status).toBe("connecting");

    const { body } = await f.t.api.post(`/api/sources/${f.sourceId}/authorize`).send({}).expect(200);
    const url = new URL(body.authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${f.google.url}/o/oauth2/v2/auth`);
    expect(url.searchParams.get("access_type")).toBe("offline");
    expect(url.searchParams.get("prompt")).toBe("consent");
    expect(url.searchParams.get("scope")?.split(" ").sort()).toEqual([
      "https://www.googleapis.com/auth/gmail.modify",
      "https://www.googleapis.com/auth/gmail.readonly",
    ]);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // At least 128 random bits, base64url.
    expect(Buffer.from(url.searchParams.get("state")!, "base64url").length).toBeGreaterThanOrEqual(16);

    const redirect = new URL(await f.google.consent(body.authorizationUrl));
    const callback = await f.t.anonymous.get(`${redirect.pathname}${redirect.search}`);
    expect(callback.status).toBe(200);
    expect(callback.text).toContain("Gmail connected");

    const row = await sourceRow(f);
    expect(row.status).toBe("connected");
    expect(row.address).toBe(f.google.mailbox.emailAddress);
    expect(historyIdOf(row.cursor)).toBe(String(f.google.mailbox.historyId));
    const secrets = f.t.ctx.secrets.openJson<{ clientSecret: string; tokens: { refresh_token: string; access_token: string } }>(row.secrets!);
    expect(secrets.tokens.refresh_token).toMatch(/^1\/\//);
    expect(row.secrets!.toString("utf8")).not.toContain(secrets.tokens.refresh_token);
    expect(f.google.watch).toMatchObject({ topicName: TOPIC, labelIds: ["INBOX"] });
    const [watch] = await f.t.ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.sourceId, f.sourceId));
    expect(watch).toMatchObject({ provider: "gmail", externalId: f.google.mailbox.emailAddress, status: "active", resource: TOPIC });
    expect(watch!.expiresAt!.getTime()).toBe(f.google.watch!.expiration);

    const view = await f.t.api.get(`/api/sources/${f.sourceId}`).expect(200);
    expect(JSON.stringify(view.body)).not.toContain(secrets.tokens.refresh_token);
    const test = await f.t.api.post(`/api/sources/${f.sourceId}/test`).send({}).expect(200);
    expect(test.body).toMatchObject({ ok: true, details: { emailAddress: f.google.mailbox.emailAddress, delivery: "push" } });
  });

  it("When the same authorization callback is replayed, then the used state is refused", async () => {
    f = await startGmailFixture({ authorize: false });
    const { body } = await f.t.api.post(`/api/sources/${f.sourceId}/authorize`).send({}).expect(200);
    const redirect = new URL(await f.google.consent(body.authorizationUrl));
    await f.t.anonymous.get(`${redirect.pathname}${redirect.search}`).expect(200);
    const replay = await f.t.anonymous.get(`${redirect.pathname}${redirect.search}`);
    expect(replay.status).toBe(400);
    expect(replay.text).toContain("expired or was already used");
    expect(await f.t.ctx.db.select().from(oauthStates)).toHaveLength(0);
  });

  it("When the Pub/Sub topic lacks the publisher grant, then the source is connected but its error says to grant gmail-api-push@system.gserviceaccount.com", async () => {
    f = await startGmailFixture({ authorize: false });
    f.google.grantedTopics.clear();
    const callback = await authorizeThroughGoogle(f);
    expect(callback.status).toBe(200);
    expect(callback.text).toContain("gmail-api-push@system.gserviceaccount.com");
    const row = await sourceRow(f);
    expect(row.status).toBe("connected");
    expect(row.lastError).toContain("gmail-api-push@system.gserviceaccount.com");
    expect(row.lastError).toContain("Pub/Sub Publisher");
    expect(historyIdOf(row.cursor)).toBe(String(f.google.mailbox.historyId));
  });
});
