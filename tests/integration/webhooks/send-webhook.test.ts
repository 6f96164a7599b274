// One HTTP attempt against real servers on loopback: what the attempt log keeps, redirects not
// followed, timeouts and refused connections as errors that say what happened, and the address
// check of every connection as undici opens it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSender, type Sender } from "../../../src/delivery/send-webhook.ts";
import type { Lookup } from "../../../src/delivery/url-safety.ts";

type Seen = { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string };

async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void) {
  const seen: Seen[] = [];
  const connections = { count: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      seen.push(s);
      handler(req, res, s);
    });
  });
  server.on("connection", () => connections.count++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path = "/hooks", host = "127.0.0.1") => new URL(`http://${host}:${port}${path}`),
    seen,
    connections,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let sender: Sender;
const servers: { close(): Promise<void> }[] = [];
beforeAll(() => {
  sender = createSender({ timeoutMs: 300, maxSockets: 4, allowPrivateNetworks: true });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => sender.close());

describe("createSender", () => {
  it("When the receiver answers 200, then the body and headers arrive as sent and the first 1 KB of the answer is kept", async () => {
    const server = await serve((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end("é".repeat(3000)));
    servers.push(server);
    const body = JSON.stringify({ type: "ticket.created", data: { subject: "Ünïcode ✓" } });
    const result = await sender.send(server.url("/hooks?tenant=7"), { "webhook-id": "evt_1" }, body);
    expect(result).toMatchObject({ statusCode: 200, error: null, retryAfter: null });
    expect(Buffer.byteLength(result.responseBody!)).toBeLessThanOrEqual(1024);
    expect(result.responseBody!.startsWith("éé")).toBe(true);
    expect(result.durationMs).toBeGreaterThan(0);
    const [got] = server.seen;
    expect(got).toMatchObject({ method: "POST", url: "/hooks?tenant=7", body });
    expect(got!.headers).toMatchObject({ "content-type": "application/json", "webhook-id": "evt_1", "user-agent": "mailgate-webhooks/1" });
    expect(got!.headers["content-length"]).toBe(String(Buffer.byteLength(body)));
  });

  it("When the receiver redirects, then the redirect is not followed and counts as the answer", async () => {
    const target = await serve((_req, res) => res.end("should not be reached"));
    const server = await serve((_req, res) => res.writeHead(302, { location: target.url().href }).end());
    servers.push(target, server);
    const result = await sender.send(server.url(), {}, "{}");
    expect(result.statusCode).toBe(302);
    expect(target.seen).toHaveLength(0);
  });

  it("When the receiver answers 429 with Retry-After, then the header is kept for the retry policy", async () => {
    const server = await serve((_req, res) => res.writeHead(429, { "retry-after": "120" }).end("slow down"));
    servers.push(server);
    expect(await sender.send(server.url(), {}, "{}")).toMatchObject({ statusCode: 429, retryAfter: "120", responseBody: "slow down" });
  });

  it("When the receiver never answers, then the attempt ends at the timeout with an error that says so", async () => {
    const server = await serve(() => {});
    servers.push(server);
    const result = await sender.send(server.url(), {}, "{}");
    expect(result).toMatchObject({ statusCode: null, error: "timed out after 300 ms" });
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
  });

  it("When nothing listens on the port, then the error names the refused connection", async () => {
    const server = await serve(() => {});
    const url = server.url();
    await server.close();
    const result = await sender.send(url, {}, "{}");
    expect(result.statusCode).toBeNull();
    expect(result.error).toMatch(/^ECONNREFUSED/);
  });

  it("When many attempts go to one receiver, then they share at most maxSockets keep-alive connections", async () => {
    const sockets = new Set<unknown>();
    const server = await serve((req, res) => {
      sockets.add(req.socket);
      setTimeout(() => res.end("ok"), 5);
    });
    servers.push(server);
    const results = await Promise.all(Array.from({ length: 40 }, () => sender.send(server.url(), {}, "{}")));
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    expect(sockets.size).toBeLessThanOrEqual(4);
  });
});

describe("createSender's address check when connecting", () => {
  // A resolver the test answers for: the name gets the answers given, whatever it is.
  const answering = (...addresses: string[]): Lookup & { calls: number } => {
    const lookup = Object.assign(
      async () => {
        lookup.calls++;
        return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
      },
      { calls: 0 },
    );
    return lookup;
  };
  const senders: Sender[] = [];
  // One socket per origin, so a second attempt shows whether the first connection was reused.
  const make = (allowPrivateNetworks: boolean, resolve?: Lookup) => {
    const s = createSender({ timeoutMs: 1000, maxSockets: 1, allowPrivateNetworks, resolve });
    senders.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(senders.splice(0).map((s) => s.close()));
  });

  it("When a name resolves to loopback as undici connects, then no connection is opened and the error says which address was refused", async () => {
    const server = await serve((_req, res) => res.end("ok"));
    servers.push(server);
    const resolve = answering("127.0.0.1");
    const result = await make(false, resolve).send(server.url("/hooks", "rebind.test"), {}, "{}");
    expect(result).toMatchObject({
      statusCode: null,
      error: "refused when connecting: rebind.test resolves to 127.0.0.1, a loopback address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it",
    });
    expect(resolve.calls).toBe(1);
    expect(server.connections.count).toBe(0);
    expect(server.seen).toHaveLength(0);
  });

  it.each([["::ffff:127.0.0.1"], ["::1"]])("When a name resolves to %s, then it is refused as loopback too", async (address) => {
    const server = await serve((_req, res) => res.end("ok"));
    servers.push(server);
    const result = await make(false, answering(address)).send(server.url("/hooks", "rebind.test"), {}, "{}");
    expect(result.error).toBe(`refused when connecting: rebind.test resolves to ${address}, a loopback address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it`);
    expect(server.connections.count).toBe(0);
  });

  it("When a URL names a loopback address itself, then it is refused before connecting (Node resolves no literal)", async () => {
    const server = await serve((_req, res) => res.end("ok"));
    servers.push(server);
    const result = await make(false, answering()).send(server.url(), {}, "{}");
    expect(result.error).toBe("refused when connecting: 127.0.0.1 is a loopback address; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it");
    expect(server.connections.count).toBe(0);
  });

  it("When private networks are allowed, then the connection goes to the address the lookup answered, and a kept-alive one is reused without asking again", async () => {
    const server = await serve((_req, res) => res.end("ok"));
    servers.push(server);
    const resolve = answering("127.0.0.1");
    const sender = make(true, resolve);
    expect(await sender.send(server.url("/hooks", "receiver.test"), {}, "{}")).toMatchObject({ statusCode: 200, error: null });
    expect(await sender.send(server.url("/hooks", "receiver.test"), {}, "{}")).toMatchObject({ statusCode: 200, error: null });
    expect(server.seen).toHaveLength(2);
    expect(server.connections.count).toBe(1);
    expect(resolve.calls).toBe(1);
  });
});
