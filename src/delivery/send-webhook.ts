// One HTTP attempt: POST the signed body, never follow a redirect, give up after the timeout,
// keep the first 1 KB of the answer for the attempt log.
//
// undici (the client inside Node's own fetch), not node:http: a pool of keep-alive connections
// per receiver, and less CPU per request than http.request with an Agent, where most of the
// dispatcher's own cost lies.
//
// Every connection is checked at the address it is about to open (url-safety.ts connectLookup):
// the check before sending resolved the name separately, and may have been answered otherwise.
// A keep-alive connection stays with the address checked when it was opened.
import { isIP } from "node:net";
import { Agent, buildConnector, errors, type Dispatcher } from "undici";
import { addressProblem, connectLookup, RefusedAddressError, type Lookup } from "./url-safety.ts";

export type SendResult = {
  statusCode: number | null;
  retryAfter: string | null;
  responseBody: string | null;
  error: string | null;
  durationMs: number;
};

const RESPONSE_KEEP = 1024;

export type Sender = { send(url: URL, headers: Record<string, string>, body: string): Promise<SendResult>; close(): Promise<void> };

export function createSender(opts: {
  timeoutMs: number;
  maxSockets: number;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: whether connections to loopback, private, … addresses are allowed. */
  allowPrivateNetworks: boolean;
  /** How names are resolved when connecting; dns.lookup unless a test answers instead. */
  resolve?: Lookup;
}): Sender {
  // undici does not follow redirects unless asked to (a 3xx is an answer, recorded as a failure).
  // Its timeouts count silence (connecting, waiting for the headers, between body chunks), as
  // the socket timeout of http.request did.
  const agent = new Agent({
    connections: opts.maxSockets,
    connect: guardedConnector({ timeout: opts.timeoutMs, allowPrivateNetworks: opts.allowPrivateNetworks, resolve: opts.resolve }),
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

/**
 * undici's own connector with a lookup that refuses a private address as it resolves the name.
 * Node resolves no address literal (https://127.0.0.1/), so those are checked here, before it.
 */
function guardedConnector(opts: { timeout: number; allowPrivateNetworks: boolean; resolve?: Lookup }): buildConnector.connector {
  const connect = buildConnector({ timeout: opts.timeout, lookup: connectLookup(opts) });
  return (options, callback) => {
    if (isIP(options.hostname) !== 0) {
      const problem = addressProblem(options.hostname, options.hostname, opts.allowPrivateNetworks);
      if (problem) return callback(new RefusedAddressError(problem.message, options.hostname), null);
    }
    return connect(options, callback);
  };
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

/**
 * The attempt log's error: a timeout says so; a socket error keeps its code (ECONNREFUSED: …); a
 * refused address says it was refused when connecting, and why.
 */
function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof RefusedAddressError) return `refused when connecting: ${err.message}`;
  if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError || err instanceof errors.ConnectTimeoutError) {
    return `timed out after ${timeoutMs} ms`;
  }
  const e = err as NodeJS.ErrnoException;
  const code = e.code && !e.code.startsWith("UND_ERR_") ? e.code : (e.cause as NodeJS.ErrnoException | undefined)?.code;
  return code && !(e.message ?? "").startsWith(code) ? `${code}: ${e.message}` : String(e.message ?? err);
}
