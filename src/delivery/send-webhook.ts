// One HTTP attempt: POST the signed body, never follow a redirect, give up after the timeout,
// keep the first 1 KB of the answer for the attempt log.
//
// undici (the client inside Node's own fetch), not node:http: a pool of keep-alive connections
// per receiver, and about half the CPU per request of http.request with an Agent, the largest
// part of mailgate's own cost per delivery (bench:webhooks).
import { Agent, errors, type Dispatcher } from "undici";

export type SendResult = {
  statusCode: number | null;
  retryAfter: string | null;
  responseBody: string | null;
  error: string | null;
  durationMs: number;
};

const RESPONSE_KEEP = 1024;

export type Sender = { send(url: URL, headers: Record<string, string>, body: string): Promise<SendResult>; close(): Promise<void> };

export function createSender(opts: { timeoutMs: number; maxSockets: number }): Sender {
  // undici does not follow redirects unless asked to (a 3xx is an answer, recorded as a failure).
  // Its timeouts count silence (connecting, waiting for the headers, between body chunks), as
  // the socket timeout of http.request did.
  const agent = new Agent({
    connections: opts.maxSockets,
    connect: { timeout: opts.timeoutMs },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  });
  const send = async (url: URL, headers: Record<string, string>, body: string): Promise<SendResult> => {
    const started = performance.now();
    try {
      const res = await agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "user-agent": "mailgate-webhooks/1" },
        body,
      });
      const responseBody = await firstBytes(res.body, RESPONSE_KEEP);
      const retryAfter = res.headers["retry-after"];
      return {
        statusCode: res.statusCode,
        retryAfter: (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null,
        responseBody,
        error: null,
        durationMs: performance.now() - started,
      };
    } catch (err) {
      return { statusCode: null, retryAfter: null, responseBody: null, error: describeFailure(err, opts.timeoutMs), durationMs: performance.now() - started };
    }
  };
  return { send, close: () => agent.close() };
}

/** Reads the whole answer (so the connection can be reused) and keeps its first `keep` bytes. */
function firstBytes(body: Dispatcher.ResponseData["body"], keep: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    body.on("data", (chunk: Buffer) => {
      if (kept < keep) {
        chunks.push(chunk);
        kept += chunk.length;
      }
    });
    body.on("end", () => resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).subarray(0, keep).toString("utf8")));
    body.on("error", reject);
  });
}

/** The attempt log's error: a timeout says so; a socket error keeps its code (ECONNREFUSED: …). */
function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError || err instanceof errors.ConnectTimeoutError) {
    return `timed out after ${timeoutMs} ms`;
  }
  const e = err as NodeJS.ErrnoException;
  const code = e.code && !e.code.startsWith("UND_ERR_") ? e.code : (e.cause as NodeJS.ErrnoException | undefined)?.code;
  return code && !(e.message ?? "").startsWith(code) ? `${code}: ${e.message}` : String(e.message ?? err);
}
