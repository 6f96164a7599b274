import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createReceiver, type ReceivedEvent } from "../../webhooks/consumer/receiver.ts";
import { generateWebhookSecret, signWebhook } from "../../src/delivery/sign-webhook.ts";

const secret = generateWebhookSecret();
const servers: Server[] = [];

async function start(onEvent: (e: ReceivedEvent) => void | Promise<void>) {
  const server = createReceiver({ secret, onEvent });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}/`;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const body = JSON.stringify({ type: "webhook.test", timestamp: "2025-03-14T08:00:00.000Z", data: { message: "hello", endpointId: "e1" } });
const post = (url: string, headers: Record<string, string>, payload = body) =>
  fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: payload });

describe("the sample webhook receiver", () => {
  it("accepts a request mailgate signed and hands the event over", async () => {
    const received: ReceivedEvent[] = [];
    const url = await start((e) => void received.push(e));
    const res = await post(url, signWebhook({ id: "evt_a", timestamp: new Date(), body, secrets: [secret] }));
    expect(res.status).toBe(200);
    expect(received).toEqual([{ id: "evt_a", type: "webhook.test", timestamp: "2025-03-14T08:00:00.000Z", data: { message: "hello", endpointId: "e1" } }]);
  });

  it("answers 401 to a tampered body or a request signed with another secret, and acts on neither", async () => {
    const received: ReceivedEvent[] = [];
    const url = await start((e) => void received.push(e));
    const headers = signWebhook({ id: "evt_b", timestamp: new Date(), body, secrets: [secret] });
    expect((await post(url, headers, body.replace("hello", "hullo"))).status).toBe(401);
    const foreign = signWebhook({ id: "evt_b", timestamp: new Date(), body, secrets: [generateWebhookSecret()] });
    expect((await post(url, foreign)).status).toBe(401);
    expect((await post(url, {})).status).toBe(401);
    expect(received).toEqual([]);
  });

  it("answers 401 to a correctly signed request replayed after more than 5 minutes", async () => {
    const url = await start(() => {});
    const old = signWebhook({ id: "evt_c", timestamp: new Date(Date.now() - 10 * 60_000), body, secrets: [secret] });
    expect((await post(url, old)).status).toBe(401);
  });

  it("acknowledges a repeat of the same webhook-id with 200 but handles the event once", async () => {
    const received: string[] = [];
    const url = await start((e) => void received.push(e.id));
    const first = signWebhook({ id: "evt_d", timestamp: new Date(), body, secrets: [secret] });
    // A retry is signed afresh with a later timestamp but keeps its id.
    const retry = signWebhook({ id: "evt_d", timestamp: new Date(Date.now() + 1000), body, secrets: [secret] });
    expect((await post(url, first)).status).toBe(200);
    expect((await post(url, retry)).status).toBe(200);
    expect(received).toEqual(["evt_d"]);
  });

  it("handles two copies arriving at the same time once", async () => {
    let calls = 0;
    const url = await start(async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 50));
    });
    const headers = signWebhook({ id: "evt_e", timestamp: new Date(), body, secrets: [secret] });
    const answers = await Promise.all([post(url, headers), post(url, headers)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(calls).toBe(1);
  });

  it("answers 500 when handling fails, and handles the event when it is sent again", async () => {
    let fail = true;
    const received: string[] = [];
    const url = await start((e) => {
      if (fail) throw new Error("database down");
      received.push(e.id);
    });
    const headers = signWebhook({ id: "evt_f", timestamp: new Date(), body, secrets: [secret] });
    const quiet = console.error;
    console.error = () => {};
    try {
      expect((await post(url, headers)).status).toBe(500);
    } finally {
      console.error = quiet;
    }
    fail = false;
    expect((await post(url, headers)).status).toBe(200);
    expect(received).toEqual(["evt_f"]);
  });
});
