// The fake Microsoft with many users under one API root, as Graph is: the real Graph client signed
// in as each user sees that user's /me, mailbox, delta and subscriptions, and nobody else's.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { Client, GraphError } from "@microsoft/microsoft-graph-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizationUrl } from "../../../src/sources/graph/graph-endpoints.ts";
import { redeemAuthorizationCode } from "../../../src/sources/graph/token-endpoint.ts";
import { startFakeMicrosoft, type FakeMicrosoft } from "../../fakes/microsoft/fake-microsoft.ts";
import { testCertificate, trustTestCertificate } from "../../fakes/microsoft/test-certificate.ts";
import { buildEmail } from "../../helpers/build-email.ts";

const REDIRECT_URI = "https://127.0.0.1/admin/oauth/microsoft/callback";

let fake: FakeMicrosoft;
/** The subscriber's endpoint: answers the validation handshake, keeps what is notified. */
let endpoint: Server;
let notificationUrl: string;
const notified: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  trustTestCertificate();
  fake = await startFakeMicrosoft({ users: [{ mail: "support@contoso.test" }, { mail: "sales@contoso.test", displayName: "Sales" }] });
  fake.addUser({ mail: "billing@contoso.test" });
  endpoint = createServer({ cert: testCertificate.cert, key: testCertificate.key }, (req, res) => {
    const token = new URL(req.url ?? "/", "https://x").searchParams.get("validationToken");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (token !== null) return void res.writeHead(200, { "Content-Type": "text/plain" }).end(token);
      notified.push(...(JSON.parse(Buffer.concat(chunks).toString("utf8")) as { value: Array<Record<string, unknown>> }).value);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, "127.0.0.1", resolve));
  notificationUrl = `https://127.0.0.1:${(endpoint.address() as AddressInfo).port}/push/graph`;
});
afterAll(async () => {
  endpoint.closeAllConnections();
  endpoint.close();
  await fake.close();
});

/** The code flow as a user's browser and mailgate run it; `as` picks the account at sign-in, `hint` is a login_hint. */
async function signIn(opts: { as?: string; hint?: string } = {}): Promise<Client> {
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL(
    authorizationUrl({
      loginUrl: fake.loginUrl,
      tenantId: fake.app.tenantId,
      clientId: fake.app.clientId,
      redirectUri: REDIRECT_URI,
      state: "s",
      codeChallenge: createHash("sha256").update(verifier).digest("base64url"),
    }),
  );
  if (opts.hint) url.searchParams.set("login_hint", opts.hint);
  const location = new URL(await fake.consent(url.toString(), opts.as === undefined ? {} : { mail: opts.as }));
  const tokens = await redeemAuthorizationCode(
    { loginUrl: fake.loginUrl, tenantId: fake.app.tenantId, clientId: fake.app.clientId, clientSecret: fake.app.clientSecret, redirectUri: REDIRECT_URI },
    { code: location.searchParams.get("code")!, codeVerifier: verifier },
    new Date(),
  );
  return Client.initWithMiddleware({
    authProvider: { getAccessToken: async () => tokens.accessToken },
    baseUrl: fake.url,
    defaultVersion: "v1.0",
    customHosts: new Set(["127.0.0.1"]),
    fetchOptions: { headers: { Prefer: 'IdType="ImmutableId"' } },
  });
}

const statusOf = (p: Promise<unknown>) => p.then(() => 200, (err: unknown) => (err instanceof GraphError ? err.statusCode : -1));

const subscribe = (client: Client, resource = "me/mailFolders('Inbox')/messages") =>
  client.api("/subscriptions").post({
    changeType: "created",
    resource,
    notificationUrl,
    clientState: "secret",
    expirationDateTime: new Date(Date.now() + 30 * 60_000).toISOString(),
  }) as Promise<{ id: string }>;

describe("the fake Microsoft with many users", () => {
  it("When users sign in by the account they pick, by login_hint or by default, then /me is each one's own", async () => {
    const me = async (client: Client) => ((await client.api("/me").get()) as { mail: string }).mail;
    expect(fake.users().map((u) => u.mail)).toEqual(["support@contoso.test", "sales@contoso.test", "billing@contoso.test"]);
    expect(await me(await signIn())).toBe("support@contoso.test");
    expect(await me(await signIn({ as: "sales@contoso.test" }))).toBe("sales@contoso.test");
    expect(await me(await signIn({ hint: "Billing@Contoso.test" }))).toBe("billing@contoso.test");
    expect(fake.user.mail).toBe("support@contoso.test");
    await expect(signIn({ as: "nobody@contoso.test" })).rejects.toThrow(/AADSTS50034/);
  });

  it("When mail arrives for one user, then only that user reads it, by /me or users/{mail}, and only their delta lists it", async () => {
    const sales = await signIn({ as: "sales@contoso.test" });
    const support = await signIn();
    const { message } = await fake.deliver(buildEmail({ subject: "For sales" }), { to: "sales@contoso.test", notify: false });
    expect(fake.mailboxOf("sales@contoso.test").all()).toHaveLength(1);
    expect(fake.mailbox.all()).toHaveLength(0);

    const raw = (await sales.api(`/me/messages/${message.immutableId}/$value`).getStream()) as ReadableStream<Uint8Array>;
    expect(await new Response(raw).text()).toContain("Subject: For sales");
    expect(await statusOf(sales.api(`/users/sales@contoso.test/messages/${message.immutableId}/$value`).getStream())).toBe(200);
    expect(await statusOf(support.api(`/me/messages/${message.immutableId}/$value`).getStream())).toBe(404);
    expect(await statusOf(support.api(`/users/sales@contoso.test/messages/${message.immutableId}/$value`).getStream())).toBe(403);

    const deltaOf = async (client: Client) => (await client.api("/me/mailFolders('Inbox')/messages/delta").get()) as { value: Array<{ id: string }>; "@odata.deltaLink": string };
    const salesDelta = await deltaOf(sales);
    expect(salesDelta.value.map((m) => m.id)).toEqual([message.immutableId]);
    expect((await deltaOf(support)).value).toEqual([]);
    await fake.deliver(buildEmail({ subject: "For sales, second" }), { to: "sales@contoso.test", notify: false });
    const next = (await sales.api(salesDelta["@odata.deltaLink"]).get()) as { value: unknown[] };
    expect(next.value).toHaveLength(1);
  });

  it("When two users subscribe, then a delivery notifies only the recipient's subscription, naming that user", async () => {
    const sales = await signIn({ as: "sales@contoso.test" });
    const billing = await signIn({ as: "billing@contoso.test" });
    const salesSub = await subscribe(sales);
    const billingSub = await subscribe(billing, `users/${fake.users()[2]!.id}/mailFolders('Inbox')/messages`);
    expect(await statusOf(subscribe(billing, "users/sales@contoso.test/mailFolders('Inbox')/messages"))).toBe(403);
    expect(fake.subscriptions.liveOnes(fake.users()[1]!.id).map((s) => s.id)).toEqual([salesSub.id]);

    notified.length = 0;
    const { message, deliveries } = await fake.deliver(buildEmail({ subject: "For billing" }), { to: "billing@contoso.test" });
    expect(deliveries.map((d) => d.status)).toEqual([202]);
    expect(notified).toEqual([
      expect.objectContaining({ subscriptionId: billingSub.id, resource: `Users/${fake.users()[2]!.id}/Messages/${message.immutableId}` }),
    ]);

    // Another user's subscription is not found with this token.
    expect(await statusOf(billing.api(`/subscriptions/${salesSub.id}`).delete())).toBe(404);
    expect(await statusOf(sales.api(`/subscriptions/${salesSub.id}`).patch({ expirationDateTime: new Date(Date.now() + 60 * 60_000).toISOString() }))).toBe(200);
  });
});
