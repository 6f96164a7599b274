// One HTTP attempt: POST the signed body, never follow a redirect, give up after the timeout,
// keep the first 1 KB of the answer for the attempt log.
import http from "node:http";
import https from "node:https";

export type SendResult = {
  statusCode: number | null;
  retryAfter: string | null;
  responseBody: string | null;
  error: string | null;
  durationMs: number;
};

const RESPONSE_KEEP = 1024;

export type Sender = { send(url: URL, headers: Record<string, string>, body: string): Promise<SendResult>; close(): void };

export function createSender(opts: { timeoutMs: number; maxSockets: number }): Sender {
  // Keep-alive agents: a backlog to one receiver reuses its connections.
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets, scheduling: "lifo" }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets, scheduling: "lifo" }),
  };
  const send = (url: URL, headers: Record<string, string>, body: string) =>
    new Promise<SendResult>((resolve) => {
      const started = performance.now();
      const done = (r: Omit<SendResult, "durationMs">) => resolve({ ...r, durationMs: performance.now() - started });
      const lib = url.protocol === "https:" ? https : http;
      const req = lib.request(
        url,
        {
          method: "POST",
          agent: agents[url.protocol as "http:" | "https:"],
          headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": "mailgate-webhooks/1" },
          timeout: opts.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on("data", (c: Buffer) => {
            if (kept < RESPONSE_KEEP) {
              chunks.push(c);
              kept += c.length;
            }
          });
          res.on("end", () =>
            done({
              statusCode: res.statusCode ?? null,
              retryAfter: (res.headers["retry-after"] as string | undefined) ?? null,
              responseBody: Buffer.concat(chunks).subarray(0, RESPONSE_KEEP).toString("utf8"),
              error: null,
            }),
          );
          res.on("error", (err) => done({ statusCode: res.statusCode ?? null, retryAfter: null, responseBody: null, error: err.message }));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`)));
      req.on("error", (err: NodeJS.ErrnoException) =>
        done({ statusCode: null, retryAfter: null, responseBody: null, error: err.code ? `${err.code}: ${err.message}` : err.message }),
      );
      req.end(body);
    });
  return {
    send,
    close: () => {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}
