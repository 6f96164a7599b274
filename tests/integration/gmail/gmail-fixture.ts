// What the Gmail integration tests share: the fake Google, a mailgate listening on loopback (so
// the fake's Pub/Sub push reaches POST /push/gmail over HTTP), a Gmail source created through the
// API and authorized through the real consent redirect, and waiting for outcomes.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { companies, companyDomains, inboundMessages, mailSources, syncRequests, tickets } from "../../../src/db/schema.ts";
import type { Runtime } from "../../../src/runtime.ts";
import { startGmailSources, type GmailRuntimeOptions } from "../../../src/sources/gmail/runtime.ts";
import { startFakeGoogle, PUSH_SERVICE_ACCOUNT, TOPIC, type FakeGoogle } from "../../fakes/google/fake-google.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

export const PUSH_AUDIENCE = "https://mailgate.example.com/push/gmail";

export type GmailFixture = {
  t: TestContext;
  google: FakeGoogle;
  baseUrl: string;
  sourceId: string;
  runtime: Runtime | null;
  startRuntime(opts?: GmailRuntimeOptions): Runtime;
  /** Starts the runtime and waits until its start-up sync of the mailbox is done. */
  startRuntimeSettled(opts?: GmailRuntimeOptions): Promise<Runtime>;
  stopRuntime(): Promise<void>;
  close(): Promise<void>;
};

export type FixtureOptions = {
  delivery?: "push" | "pull";
  topicName?: string | null;
  subscriptionName?: string;
  postProcess?: { addLabel?: string; markRead?: boolean };
  env?: Record<string, string>;
  historyPageSize?: number;
  /** Leave the source unauthorized (the authorize test does it itself). */
  authorize?: boolean;
  /** Target the push at mailgate (default for delivery push). */
  pushToMailgate?: boolean;
};

export async function startGmailFixture(opts: FixtureOptions = {}): Promise<GmailFixture> {
  const google = await startFakeGoogle({ historyPageSize: opts.historyPageSize });
  const t = await createTestContext({ env: { ...google.env(), GMAIL_PUSH_AUDIENCE: PUSH_AUDIENCE, ...opts.env } });
  const server: Server = await new Promise((resolve) => {
    const s = t.app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  google.pushIdentity = { audience: PUSH_AUDIENCE, serviceAccount: PUSH_SERVICE_ACCOUNT };
  const topicName = opts.topicName === undefined ? TOPIC : opts.topicName;
  if (topicName && opts.pushToMailgate !== false && (opts.delivery ?? "push") === "push") {
    google.pushTargets.set(topicName, { endpoint: `${baseUrl}/push/gmail`, audience: PUSH_AUDIENCE, serviceAccount: PUSH_SERVICE_ACCOUNT });
  }
  await insertAcme(t);
  const res = await t.api.post("/api/sources").send({
    kind: "gmail",
    name: "Support (Gmail)",
    address: google.mailbox.emailAddress,
    role: "system",
    gmail: {
      clientId: google.client.clientId,
      clientSecret: google.client.clientSecret,
      redirectUri: google.client.redirectUris[0],
      ...(topicName ? { topicName } : {}),
      delivery: opts.delivery ?? "push",
      ...(opts.subscriptionName ? { subscriptionName: opts.subscriptionName } : {}),
      ...(opts.postProcess ? { postProcess: opts.postProcess } : {}),
    },
  });
  if (res.status !== 201) throw new Error(`source create answered ${res.status}: ${JSON.stringify(res.body)}`);
  const sourceId = res.body.id as string;

  const fixture: GmailFixture = {
    t,
    google,
    baseUrl,
    sourceId,
    runtime: null,
    startRuntime: (runtimeOpts = {}) => {
      fixture.runtime = startGmailSources(t.ctx, { pollMs: 50, superviseEveryMs: 60_000, ...runtimeOpts });
      return fixture.runtime;
    },
    startRuntimeSettled: async (runtimeOpts = {}) => {
      const since = t.ctx.clock.now();
      const runtime = fixture.startRuntime(runtimeOpts);
      await waitFor("the start-up sync", async () => {
        const [row] = await t.ctx.db.select().from(mailSources).where(eq(mailSources.id, sourceId));
        return row?.lastSyncAt !== null && row!.lastSyncAt!.getTime() >= since.getTime() && (await t.ctx.db.select().from(syncRequests)).length === 0;
      });
      return runtime;
    },
    stopRuntime: async () => {
      await fixture.runtime?.stop();
      fixture.runtime = null;
    },
    close: async () => {
      await fixture.stopRuntime();
      await new Promise((resolve) => server.close(resolve));
      await t.close();
      await google.close();
    },
  };
  if (opts.authorize !== false) await authorizeThroughGoogle(fixture);
  return fixture;
}

/** Authorize → Google's consent → our callback, as the administrator's browser would. Returns the callback's answer. */
export async function authorizeThroughGoogle(f: GmailFixture) {
  const authorize = await f.t.api.post(`/api/sources/${f.sourceId}/authorize`).send({});
  if (authorize.status !== 200) throw new Error(`authorize answered ${authorize.status}: ${JSON.stringify(authorize.body)}`);
  const redirect = new URL(await f.google.consent(authorize.body.authorizationUrl as string));
  return f.t.anonymous.get(`${redirect.pathname}${redirect.search}`);
}

async function insertAcme(t: TestContext): Promise<void> {
  const [company] = await t.ctx.db.insert(companies).values({ name: "Acme Corporation" }).returning({ id: companies.id });
  await t.ctx.db.insert(companyDomains).values({ domain: "acme.com", companyId: company!.id });
}

export async function sourceRow(f: GmailFixture) {
  const [row] = await f.t.ctx.db.select().from(mailSources).where(eq(mailSources.id, f.sourceId));
  return row!;
}

export async function storedMessages(f: GmailFixture) {
  return f.t.ctx.db
    .select({ id: inboundMessages.id, providerMessageId: inboundMessages.providerMessageId, status: inboundMessages.status, ticketId: inboundMessages.ticketId })
    .from(inboundMessages)
    .where(eq(inboundMessages.sourceId, f.sourceId));
}

export async function ticketSubjects(f: GmailFixture): Promise<string[]> {
  const rows = await f.t.ctx.db.select({ subject: tickets.subject }).from(tickets).where(eq(tickets.sourceId, f.sourceId));
  return rows.map((r) => r.subject).sort();
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
