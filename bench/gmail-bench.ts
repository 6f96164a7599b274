// What bench:gmail and bench:gmail-sources share: the fake Google in its child process, mailgate's
// HTTP app on loopback over a fresh Postgres database (with a company for the senders' domain,
// acme.com), and a Gmail source created and authorized through the API as an operator would.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Context } from "../src/context.ts";
import { companies, companyDomains } from "../src/db/schema.ts";
import { createApp } from "../src/http/app.ts";
import { TOPIC } from "../tests/fakes/google/fake-google.ts";
import type { OAuthClientRegistration } from "../tests/fakes/google/fake-oauth.ts";
import { benchContext } from "./bench-database.ts";
import { startBenchChild, type BenchChild } from "./child-process.ts";
import type { FakeGoogleCall } from "./fake-google-process.ts";

export const AUDIENCE = "https://mailgate.example.com/push/gmail";

type Described = { env: Record<string, string>; client: OAuthClientRegistration; emailAddress: string };

export type GmailBench = {
  google: BenchChild<FakeGoogleCall>;
  ctx: Context;
  /** mailgate's HTTP root on loopback. */
  base: string;
  /** The fake's first mailbox. */
  emailAddress: string;
  /** Creates and authorizes a Gmail source for the mailbox; answers its id. */
  connectSource(address: string, name: string): Promise<string>;
  close(): Promise<void>;
};

export async function startGmailBench(): Promise<GmailBench> {
  const google = await startBenchChild<FakeGoogleCall>(new URL("./fake-google-process.ts", import.meta.url), "fake Google");
  const described = (await google.call({ method: "describe" })) as Described;
  const { ctx, close } = await benchContext({ ...described.env, GMAIL_PUSH_AUDIENCE: AUDIENCE, PUBLIC_URL: "http://127.0.0.1:3000" });
  const server: Server = createApp(ctx).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = { authorization: `Bearer ${ctx.adminToken}`, "content-type": "application/json" };
  const [company] = await ctx.db.insert(companies).values({ name: "Acme" }).returning();
  await ctx.db.insert(companyDomains).values({ domain: "acme.com", companyId: company!.id });
  const { client } = described;

  const connectSource = async (address: string, name: string) => {
    const created = await fetch(`${base}/api/sources`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        kind: "gmail",
        name,
        address,
        role: "system",
        gmail: { clientId: client.clientId, clientSecret: client.clientSecret, redirectUri: client.redirectUris[0], topicName: TOPIC },
      }),
    });
    if (created.status !== 201) throw new Error(`source create answered ${created.status}: ${await created.text()}`);
    const sourceId = ((await created.json()) as { id: string }).id;
    const authorize = (await (await fetch(`${base}/api/sources/${sourceId}/authorize`, { method: "POST", headers: admin, body: "{}" })).json()) as { authorizationUrl: string };
    // No account chosen: the fake signs in the login_hint mailgate put in the URL (the source's address).
    const callback = new URL((await google.call({ method: "consent", url: authorize.authorizationUrl })) as string);
    const connected = await fetch(`${base}${callback.pathname}${callback.search}`);
    if (connected.status !== 200) throw new Error(`authorization of ${address} failed: ${connected.status} ${await connected.text()}`);
    return sourceId;
  };

  return {
    google,
    ctx,
    base,
    emailAddress: described.emailAddress,
    connectSource,
    close: async () => {
      server.close();
      await close();
      google.stop();
    },
  };
}
