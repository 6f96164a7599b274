// DNS rebinding against the real API, dispatcher and undici: a name that answers a public
// address to the checks and loopback when mailgate connects gets no connection to loopback.
//
// The resolver is the test's (ctx.resolve). The name is "localhost", so that a sender that
// resolved it on its own, as undici did before the connect-time check, would reach the receiver.
// Only the first two lookups answer the public TEST-NET address, and those two are checks, which
// open no connection: every connection made here goes to loopback.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDispatcher } from "../../../src/delivery/dispatcher.ts";
import type { Lookup } from "../../../src/delivery/url-safety.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { waitFor } from "../../helpers/wait-for.ts";

const PUBLIC = "203.0.113.7";
const lookups: { host: string; answer: string }[] = [];
const rebinding: Lookup = async (host) => {
  const answer = lookups.length < 2 ? PUBLIC : "127.0.0.1";
  lookups.push({ host, answer });
  return [{ address: answer, family: 4 }];
};

let t: TestContext;
beforeAll(async () => {
  // Three attempts at once, then an hour's wait: the refusals follow the retry schedule.
  t = await createTestContext({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "false", WEBHOOK_RETRY_SCHEDULE: "0,0,0,3600" }, resolve: rebinding });
});
afterAll(async () => t.close());

describe("DNS rebinding", () => {
  it("When a name answers a public address to the checks and loopback as the dispatcher connects, then the delivery is refused, retried later, and the loopback receiver gets nothing", async () => {
    let connections = 0;
    let requests = 0;
    const receiver = http.createServer((_req, res) => {
      requests++;
      res.end("ok");
    });
    receiver.on("connection", () => connections++);
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const { port } = receiver.address() as AddressInfo;
    const dispatcher = startDispatcher(t.ctx, { pollMs: 50 });
    try {
      const endpoint = (await t.api.post("/api/webhooks").send({ url: `http://localhost:${port}/hooks` }).expect(201)).body;
      await t.api.post(`/api/webhooks/${endpoint.id}/test`).expect(202);
      let delivery: { status: string; attempts: number; nextAttemptAt: string | null; lastError: string | null; attemptLog: { statusCode: number | null; error: string | null }[] } | undefined;
      await waitFor(async () => {
        [delivery] = (await t.api.get(`/api/webhooks/${endpoint.id}/deliveries`).expect(200)).body.items;
        return delivery?.attempts === 3 || delivery?.status === "succeeded";
      });
      expect(requests).toBe(0);
      const refusal =
        "refused when connecting: localhost resolves to 127.0.0.1, a loopback address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it";
      expect(delivery!.status).toBe("pending");
      expect(new Date(delivery!.nextAttemptAt!).getTime() - Date.now()).toBeGreaterThan(50 * 60 * 1000);
      expect(delivery!.lastError).toBe(refusal);
      expect(delivery!.attemptLog).toEqual([1, 2, 3].map(() => expect.objectContaining({ statusCode: null, error: refusal })));
      // The save-time check and the dispatcher's check saw the public address; every connection asked anew.
      expect(lookups.map((l) => l.answer)).toEqual([PUBLIC, PUBLIC, "127.0.0.1", "127.0.0.1", "127.0.0.1"]);
      expect(lookups.every((l) => l.host === "localhost")).toBe(true);
      expect(requests).toBe(0);
      expect(connections).toBe(0);
    } finally {
      await dispatcher.stop();
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });
});
