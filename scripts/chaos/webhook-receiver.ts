// The downstream system of the chaos suite: records every webhook it is sent, by webhook-id (the
// at-least-once contract says consumers drop repeats by it), and can go down and come back on the
// same port, so mailgate sees connection refused, not a slow answer.
import http from "node:http";
import type { AddressInfo } from "node:net";

export type Receipt = { type: string; ticketId: string | null };

export type WebhookReceiver = {
  url: string;
  /** One entry per distinct webhook-id. */
  received: Map<string, Receipt>;
  /** Every POST, repeats included. */
  requests(): number;
  /** Ticket ids of the ticket.created events received. */
  ticketsCreated(): Set<string>;
  /** Milliseconds to wait before answering, so deliveries are on the wire long enough to be cut. */
  setDelay(ms: number): void;
  /** Closes the listener and every open connection: new attempts get connection refused. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
};

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received = new Map<string, Receipt>();
  let requests = 0;
  let delayMs = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const answer = () => {
        requests++;
        const id = String(req.headers["webhook-id"] ?? "");
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { type: string; data?: { ticket?: { id?: string } } };
          if (id && !received.has(id)) received.set(id, { type: body.type, ticketId: body.data?.ticket?.id ?? null });
          res.end("ok");
        } catch {
          res.writeHead(400).end("not JSON");
        }
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const down = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      // Keep-alive connections would otherwise keep taking requests while "down".
      server.closeAllConnections();
    });

  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    requests: () => requests,
    ticketsCreated: () => new Set([...received.values()].filter((r) => r.type === "ticket.created" && r.ticketId).map((r) => r.ticketId!)),
    setDelay: (ms) => void (delayMs = ms),
    down,
    up: () =>
      new Promise<void>((resolve, reject) => {
        if (server.listening) return resolve();
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      }),
    close: down,
  };
}
