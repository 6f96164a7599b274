// Everything a Graph scenario needs: the HTTPS fake of Microsoft, mailgate's app served over
// HTTPS on loopback (Graph only calls https endpoints, and validates them before subscribing),
// a test database, and a Microsoft 365 source authorized through the real consent round trip.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { and, eq } from "drizzle-orm";
import { inboundMessages, mailSources, pushSubscriptions, tickets } from "../../../src/db/schema.ts";
import type { Runtime } from "../../../src/runtime.ts";
import { startGraphSources, type GraphRuntimeOptions } from "../../../src/sources/graph/runtime.ts";
import { forgetAccessToken } from "../../../src/sources/graph/graph-tokens.ts";
import type { GraphSecrets } from "../../../src/sources/source-config.ts";
import { startRenewals } from "../../../src/scheduler/renewals.ts";
import { startFakeMicrosoft, type FakeMicrosoft } from "../../fakes/microsoft/fake-microsoft.ts";
import { testCertificate, trustTestCertificate } from "../../fakes/microsoft/test-certificate.ts";
import { createCompany, drainPipeline } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

export type GraphHarness = {
  fake: FakeMicrosoft;
  t: TestContext;
  publicUrl: string;
  /** Starts the Graph runtime (workers, supervisor, renewals) with test-speed timings. */
  startRuntime(opts?: GraphRuntimeOptions): Runtime;
  /** Stops mailgate's HTTPS server: Microsoft's calls fail as if mailgate were down. */
  goOffline(): Promise<void>;
  goOnline(): Promise<void>;
  createGraphSource(body?: Record<string, unknown>): Promise<string>;
  /**
   * Authorize → Microsoft consent → callback, as an administrator's browser would; returns the page.
   * `scope` replaces the scopes in the consent URL: the grant an older mailgate asked for.
   */
  authorize(sourceId: string, opts?: { scope?: string }): Promise<{ status: number; html: string }>;
  /** Makes the stored access token look expired, as it would be an hour later: the next call refreshes it. */
  expireStoredAccessToken(sourceId: string): Promise<void>;
  subscriptionOf(sourceId: string): Promise<typeof pushSubscriptions.$inferSelect | undefined>;
  inboundCount(sourceId: string): Promise<number>;
  /** Waits until `count` messages are stored, processes them, and returns the source's ticket count. */
  ticketsAfter(sourceId: string, count: number): Promise<number>;
  close(): Promise<void>;
};

export const RUNTIME_TIMINGS: GraphRuntimeOptions = { pollMs: 50, superviseEveryMs: 200 };

export async function startGraphHarness(opts: { env?: Record<string, string> } = {}): Promise<GraphHarness> {
  trustTestCertificate();
  const fake = await startFakeMicrosoft();
  let server: Server = createServer({ cert: testCertificate.cert, key: testCertificate.key });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const publicUrl = `https://127.0.0.1:${port}`;
  const t = await createTestContext({ env: { ...fake.env(), PUBLIC_URL: publicUrl, ...opts.env } });
  server.on("request", t.app);
  await createCompany(t, "Acme Corporation", ["acme.com"]);
  const runtimes: Runtime[] = [];

  const harness: GraphHarness = {
    fake,
    t,
    publicUrl,
    startRuntime: (o) => {
      const timings = { ...RUNTIME_TIMINGS, ...o };
      const sources = startGraphSources(t.ctx, timings);
      const renewals = startRenewals(t.ctx, { everyMs: timings.superviseEveryMs });
      const runtime: Runtime = { stop: async () => void (await Promise.all([sources.stop(), renewals.stop()])) };
      runtimes.push(runtime);
      return runtime;
    },
    goOffline: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    goOnline: async () => {
      server = createServer({ cert: testCertificate.cert, key: testCertificate.key }, t.app);
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
    createGraphSource: async (body = {}) => {
      const res = await t.api.post("/api/sources").send({
        kind: "graph",
        name: "Microsoft 365 support",
        address: fake.user.mail,
        role: "system",
        graph: {
          tenantId: fake.app.tenantId,
          clientId: fake.app.clientId,
          clientSecret: fake.app.clientSecret,
          redirectUri: `${publicUrl}/admin/oauth/microsoft/callback`,
        },
        ...body,
      });
      if (res.status !== 201) throw new Error(`creating the Graph source answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.id as string;
    },
    authorize: async (sourceId, o = {}) => {
      const res = await t.api.post(`/api/sources/${sourceId}/authorize`).send({});
      if (res.status !== 200) throw new Error(`authorize answered ${res.status}: ${JSON.stringify(res.body)}`);
      const consentUrl = new URL(res.body.authorizationUrl as string);
      if (o.scope !== undefined) consentUrl.searchParams.set("scope", o.scope);
      const callback = await fake.consent(consentUrl.toString());
      const page = await fetch(callback);
      return { status: page.status, html: await page.text() };
    },
    expireStoredAccessToken: async (sourceId) => {
      const [row] = await t.ctx.db.select({ secrets: mailSources.secrets }).from(mailSources).where(eq(mailSources.id, sourceId));
      const secrets = t.ctx.secrets.openJson<GraphSecrets>(row!.secrets!);
      await t.ctx.db
        .update(mailSources)
        .set({ secrets: t.ctx.secrets.sealJson({ ...secrets, tokens: { ...secrets.tokens, expiresAt: new Date(0).toISOString() } }) })
        .where(eq(mailSources.id, sourceId));
      forgetAccessToken(t.ctx, sourceId);
    },
    subscriptionOf: async (sourceId) => {
      const [row] = await t.ctx.db
        .select()
        .from(pushSubscriptions)
        .where(and(eq(pushSubscriptions.sourceId, sourceId), eq(pushSubscriptions.provider, "graph")));
      return row;
    },
    inboundCount: async (sourceId) =>
      (await t.ctx.db.select({ id: inboundMessages.id }).from(inboundMessages).where(eq(inboundMessages.sourceId, sourceId))).length,
    ticketsAfter: async (sourceId, count) => {
      await waitFor(async () => (await harness.inboundCount(sourceId)) >= count, `${count} stored messages`);
      await drainPipeline(t);
      return (await t.ctx.db.select({ id: tickets.id }).from(tickets).where(eq(tickets.sourceId, sourceId))).length;
    },
    close: async () => {
      for (const runtime of runtimes.reverse()) await runtime.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fake.close();
      await t.close();
    },
  };
  return harness;
}

/** Polls `check` until it holds; fails naming what it waited for. */
export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
