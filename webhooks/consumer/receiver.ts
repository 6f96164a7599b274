// A small receiver for mailgate webhooks, to copy from. It shows the three things every receiver
// needs: verify the signature over the raw body before trusting anything, answer a repeat with
// 200 without acting twice (deliveries are at-least-once), and answer fast.
//
//   WEBHOOK_SECRET=whsec_... PORT=8080 node webhooks/consumer/receiver.ts
//
// It depends only on node:http and the `standardwebhooks` library, not on mailgate's code.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { pathToFileURL } from "node:url";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

export type ReceivedEvent = { id: string; type: string; timestamp: string; data: unknown };

export type ReceiverOptions = {
  secret: string; // whsec_...; during a rotation mailgate signs with both secrets, so either works
  onEvent: (event: ReceivedEvent) => void | Promise<void>;
  maxBodyBytes?: number;
  rememberIds?: number; // how many webhook-ids to remember for dropping repeats
};

const DEFAULT_MAX_BODY = 5 * 1024 * 1024;
const DEFAULT_REMEMBER = 10_000;

/** Builds the server; the caller listens (tests on port 0). */
export function createReceiver(opts: ReceiverOptions): Server {
  // Verifies the signature and rejects timestamps more than 5 minutes away (replays).
  const webhook = new Webhook(opts.secret);
  const seen = new RecentIds(opts.rememberIds ?? DEFAULT_REMEMBER);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;

  // A copy that arrives while the first is still being handled waits for its outcome.
  const handling = new Map<string, Promise<boolean>>();

  const handle = async (req: IncomingMessage): Promise<[number, string]> => {
    if (req.method !== "POST") return [405, "POST webhooks here"];
    const body = await readBody(req, maxBody);
    if (body === null) return [413, `body larger than ${maxBody} bytes`];

    const headers = {
      "webhook-id": header(req, "webhook-id"),
      "webhook-timestamp": header(req, "webhook-timestamp"),
      "webhook-signature": header(req, "webhook-signature"),
    };
    let payload: { type: string; timestamp: string; data: unknown };
    try {
      // The signature covers the exact bytes received: verify before parsing or reformatting.
      payload = webhook.verify(body, headers) as typeof payload;
    } catch (err) {
      if (err instanceof WebhookVerificationError) return [401, `signature check failed: ${err.message}`];
      throw err;
    }

    const id = headers["webhook-id"];
    if (seen.has(id)) return [200, "already received"];
    const running = handling.get(id);
    if (running) return (await running) ? [200, "already received"] : [500, "handling failed; send it again later"];

    const done = Promise.resolve()
      .then(() => opts.onEvent({ id, type: payload.type, timestamp: payload.timestamp, data: payload.data }))
      .then(
        () => {
          seen.add(id);
          return true;
        },
        (err: unknown) => {
          // Not remembered: a non-2xx answer makes mailgate send it again later.
          console.error(`handling webhook ${id} failed`, err);
          return false;
        },
      );
    handling.set(id, done);
    const ok = await done.finally(() => handling.delete(id));
    return ok ? [200, "ok"] : [500, "handling failed; send it again later"];
  };

  return createServer((req, res) => {
    handle(req)
      .catch((err: unknown): [number, string] => {
        console.error("receiving a webhook failed", err);
        return [500, "internal error"];
      })
      .then(([status, text]) => {
        res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
        res.end(text + "\n");
      });
  });
}

// Remembers the most recent ids; the oldest is forgotten first. A Map keeps insertion order.
class RecentIds {
  private readonly capacity: number;
  private readonly ids = new Map<string, true>();
  constructor(capacity: number) {
    this.capacity = capacity;
  }
  has(id: string) {
    return this.ids.has(id);
  }
  add(id: string) {
    this.ids.set(id, true);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.keys().next().value as string);
  }
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? (value[0] ?? "") : (value ?? "");
}

// Reads the whole body, or null past the limit (the rest is drained so the 413 can be sent).
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > limit ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function main() {
  const secret = process.env.WEBHOOK_SECRET;
  if (!secret?.startsWith("whsec_")) {
    console.error("Set WEBHOOK_SECRET to the endpoint's whsec_... secret (shown once by POST /api/webhooks).");
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 8080);
  const server = createReceiver({
    secret,
    onEvent: (e) => console.log(JSON.stringify({ id: e.id, type: e.type, timestamp: e.timestamp, data: e.data })),
  });
  server.listen(port, () => console.log(`receiving mailgate webhooks on http://localhost:${port}/`));
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
