// The fake Google with several mailboxes, through the real google-auth-library and googleapis
// clients as mailgate drives them: the consenting user is the login_hint's (or the one chosen),
// tokens are that user's, `users/me` is that user's mailbox, and watches and notifications are
// per mailbox.
import { OAuth2Client } from "google-auth-library";
import { gmail as gmailApi } from "googleapis/build/src/apis/gmail/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEmail } from "../../helpers/build-email.ts";
import { TOPIC, startFakeGoogle, type FakeGoogle } from "./fake-google.ts";

const A = "support@acme-help.test";
const B = "billing@acme-help.test";
const C = "sales@acme-help.test";

let google: FakeGoogle;
const published: { topic: string; notification: { emailAddress: string; historyId: number } }[] = [];

beforeAll(async () => {
  google = await startFakeGoogle({ mailboxes: [A, B] });
  google.addMailbox(C);
  google.pullTargets.set(TOPIC, (data) => published.push({ topic: TOPIC, notification: JSON.parse(Buffer.from(data, "base64").toString("utf8")) }));
});
afterAll(() => google?.close());

function oauthClient() {
  const env = google.env();
  return new OAuth2Client({
    clientId: google.client.clientId,
    clientSecret: google.client.clientSecret,
    redirectUri: google.client.redirectUris[0],
    endpoints: { oauth2AuthBaseUrl: env.GOOGLE_OAUTH_AUTH_URL!, oauth2TokenUrl: env.GOOGLE_OAUTH_TOKEN_URL! },
  });
}

/** Consents as mailgate asks (login_hint = the source's address), exchanges the code; a Gmail client signed in as the consenting user. */
async function signIn(loginHint: string, consentOpts?: { email?: string }) {
  const oauth = oauthClient();
  const url = oauth.generateAuthUrl({ access_type: "offline", prompt: "consent", scope: ["https://www.googleapis.com/auth/gmail.modify"], login_hint: loginHint });
  const code = new URL(await google.consent(url, consentOpts)).searchParams.get("code")!;
  const { tokens } = await oauth.getToken(code);
  oauth.setCredentials(tokens);
  return { oauth, tokens, gmail: gmailApi({ version: "v1", auth: oauth, rootUrl: `${google.url}/`, fetchImplementation: fetch }) };
}

describe("a fake Google with several mailboxes", () => {
  it("keeps the first mailbox as the default one", () => {
    expect(google.mailbox.emailAddress).toBe(A);
    expect([...google.mailboxes.keys()]).toEqual([A, B, C]);
    expect(() => google.addMailbox(B)).toThrow(/already/);
  });

  it("signs in the login_hint's user, and users/me is that user's mailbox", async () => {
    const { gmail } = await signIn(B);
    expect((await gmail.users.getProfile({ userId: "me" })).data.emailAddress).toBe(B);
    expect((await gmail.users.getProfile({ userId: B })).data.emailAddress).toBe(B);
    // Another user's mailbox is delegation, which the fake never grants.
    await expect(gmail.users.getProfile({ userId: A })).rejects.toMatchObject({ status: 403 });
  });

  it("lets the consent helper choose the account, and refuses one it does not know", async () => {
    const { gmail } = await signIn(A, { email: C });
    expect((await gmail.users.getProfile({ userId: "me" })).data.emailAddress).toBe(C);
    await expect(signIn(A, { email: "nobody@acme-help.test" })).rejects.toThrow(/consent answered 400/);
  });

  it("falls back to the first mailbox when the login_hint names no known user", async () => {
    const { gmail } = await signIn("someone-else@example.com");
    expect((await gmail.users.getProfile({ userId: "me" })).data.emailAddress).toBe(A);
  });

  it("keeps the user across a refresh", async () => {
    const { oauth, tokens } = await signIn(C);
    const refreshed = oauthClient();
    refreshed.setCredentials({ refresh_token: tokens.refresh_token });
    const gmail = gmailApi({ version: "v1", auth: refreshed, rootUrl: `${google.url}/`, fetchImplementation: fetch });
    expect((await gmail.users.getProfile({ userId: "me" })).data.emailAddress).toBe(C);
    expect(oauth.credentials.access_token).not.toBe(refreshed.credentials.access_token);
  });

  it("watches, lists and notifies per mailbox", async () => {
    const b = await signIn(B);
    const c = await signIn(C);
    const watched = await b.gmail.users.watch({ userId: "me", requestBody: { topicName: TOPIC, labelIds: ["INBOX"] } });
    expect(google.mailboxes.get(B)!.watch).toMatchObject({ topicName: TOPIC, expiration: Number(watched.data.expiration) });
    expect(google.watch).toBeNull();
    expect(google.mailboxes.get(C)!.watch).toBeNull();

    const start = String(google.mailboxes.get(B)!.historyId);
    const cStart = String(google.mailboxes.get(C)!.historyId);
    published.splice(0);
    const { message } = await google.deliver(buildEmail({ from: "ann@acme.com", subject: "For billing" }), { mailbox: B });
    // C has no watch: new mail there publishes nothing.
    await google.deliver(buildEmail({ from: "bob@acme.com", subject: "For sales" }), { mailbox: C });
    expect(published).toEqual([{ topic: TOPIC, notification: { emailAddress: B, historyId: Number(google.mailboxes.get(B)!.historyId) } }]);

    const history = (await b.gmail.users.history.list({ userId: "me", startHistoryId: start })).data;
    expect(history.history?.flatMap((h) => h.messages?.map((m) => m.id))).toEqual([message.id]);
    expect((await c.gmail.users.history.list({ userId: "me", startHistoryId: cStart })).data.history).toHaveLength(1);
    expect((await b.gmail.users.messages.get({ userId: "me", id: message.id, format: "raw" })).data.raw).toBe(message.raw.toString("base64url"));
    await expect(c.gmail.users.messages.get({ userId: "me", id: message.id })).rejects.toMatchObject({ status: 404 });

    const request = google.pushRequest({ mailbox: B, token: "t" });
    const body = request.body as { message: { data: string } };
    expect(JSON.parse(Buffer.from(body.message.data, "base64").toString("utf8"))).toEqual({ emailAddress: B, historyId: Number(google.mailboxes.get(B)!.historyId) });
    expect(() => google.pushRequest({ mailbox: "nobody@acme-help.test" })).toThrow(/no mailbox/);

    await b.gmail.users.stop({ userId: "me" });
    expect(google.mailboxes.get(B)!.watch).toBeNull();
  });
});
