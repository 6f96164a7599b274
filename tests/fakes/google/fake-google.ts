// A loopback HTTP fake of Google for the Gmail source, driven by the real googleapis and
// google-auth-library clients through GOOGLE_OAUTH_AUTH_URL, GOOGLE_OAUTH_TOKEN_URL,
// GOOGLE_OAUTH_CERTS_URL and GMAIL_API_ROOT_URL: the OAuth endpoints (consent redirect, token,
// refresh, PEM certs), the Gmail REST subset mailgate calls (getProfile, watch, stop,
// history.list with paging and 404, messages.list/get raw/modify/send, labels), and Gmail's side of
// Cloud Pub/Sub: a watch publishes {emailAddress, historyId} to its topic, which is delivered to a
// push endpoint with a signed OIDC token, or handed to a pull subscription (the gRPC fake).
// Like Google it serves many users under one API root: the access token names the user, and
// `users/me` is that user's mailbox (`mailboxes` or addMailbox; `mailbox` is the first).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FakeGmailMailbox, type FakeGmailMessage, type Watch } from "./fake-gmail-mailbox.ts";
import { FakeOAuth, type OAuthClientRegistration } from "./fake-oauth.ts";

export const PUSH_SERVICE_ACCOUNT = "mailgate-push@fake-project.iam.gserviceaccount.com";
export const TOPIC = "projects/fake-project/topics/gmail";

export type PushTarget = { endpoint: string; audience: string; serviceAccount: string };
export type { Watch };
export type Failure = { pathIncludes: string; method?: string; status: number; reason: string; message?: string; times: number; retryAfterSeconds?: number };
export type LoggedRequest = { method: string; path: string; status: number };
export type Published = { topic: string; data: string; notification: { emailAddress: string; historyId: number | string } };

export type FakeGoogle = {
  url: string;
  oauth: FakeOAuth;
  /** The first mailbox: the one every call without a mailbox is about. */
  mailbox: FakeGmailMailbox;
  /** Every mailbox by its address, the first one included. */
  mailboxes: Map<string, FakeGmailMailbox>;
  /** A new user with an empty mailbox, who can then consent and be watched. */
  addMailbox(email: string): FakeGmailMailbox;
  client: OAuthClientRegistration;
  requests: LoggedRequest[];
  /** The first mailbox's watch (each mailbox has its own: `mailbox.watch`). */
  watch: Watch | null;
  /** users.stop calls, of any mailbox. */
  stops: number;
  /** Topics Gmail may publish to (the publisher grant of gmail-api-push@system.gserviceaccount.com). */
  grantedTopics: Set<string>;
  /** Where each topic's notifications go: a push endpoint, or a callback (a pull subscription). */
  pushTargets: Map<string, PushTarget>;
  pullTargets: Map<string, (data: string) => void>;
  /** Audience and account of tokens pushRequest signs when the topic has no push target. */
  pushIdentity: { audience: string; serviceAccount: string };
  published: Published[];
  /** What users.messages.send received, in order (also in the mailbox, labelled SENT). */
  sent: FakeGmailMessage[];
  env(): Record<string, string>;
  /**
   * Plays the user's browser at the consent screen; returns the redirect target (our callback URL
   * with code and state). The user is `email` if given, else the URL's login_hint if it is a known
   * mailbox, else the first mailbox's.
   */
  consent(authorizationUrl: string, opts?: { email?: string }): Promise<string>;
  /**
   * New mail in `mailbox` (default the first); publishes a notification to that mailbox's watch's
   * topic unless `notify` is false. Resolves once the push (if any) was answered.
   */
  deliver(raw: Buffer, opts?: { notify?: boolean; labelIds?: string[]; internalDate?: Date; mailbox?: string }): Promise<{ message: FakeGmailMessage; push: Response | null }>;
  /** The notification Gmail would publish now for `mailbox` (default the first), as a Pub/Sub push request: headers and body. */
  pushRequest(opts?: { token?: string; historyId?: number | string; emailAddress?: string; mailbox?: string }): { headers: Record<string, string>; body: unknown };
  /** The next `times` requests whose path includes `pathIncludes` fail with Google's error body. */
  fail(failure: Failure): void;
  /** Forgets the failures fail() queued that have not happened yet. */
  clearFailures(): void;
  close(): Promise<void>;
};

export async function startFakeGoogle(
  opts: { email?: string; mailboxes?: string[]; historyPageSize?: number; client?: Partial<OAuthClientRegistration> } = {},
): Promise<FakeGoogle> {
  const [email = "support@acme-help.test", ...others] = opts.mailboxes ?? [opts.email ?? "support@acme-help.test"];
  const oauth = new FakeOAuth(email);
  const mailbox = new FakeGmailMailbox(email);
  const mailboxes = new Map([[email, mailbox]]);
  const requests: LoggedRequest[] = [];
  const failures: Failure[] = [];
  const historyPageSize = opts.historyPageSize ?? 100;
  let base = "";

  const fake: FakeGoogle = {
    url: "",
    oauth,
    mailbox,
    mailboxes,
    addMailbox: (address) => {
      if (mailboxes.has(address)) throw new Error(`the fake Google already has a mailbox ${address}`);
      const added = new FakeGmailMailbox(address);
      mailboxes.set(address, added);
      oauth.users.add(address);
      return added;
    },
    client: {
      clientId: "1234567890-fake.apps.googleusercontent.com",
      clientSecret: "GOCSPX-fake-client-secret",
      redirectUris: ["http://127.0.0.1:3000/admin/oauth/google/callback"],
      ...opts.client,
    },
    requests,
    get watch() {
      return mailbox.watch;
    },
    set watch(watch) {
      mailbox.watch = watch;
    },
    stops: 0,
    grantedTopics: new Set([TOPIC]),
    pushTargets: new Map(),
    pullTargets: new Map(),
    pushIdentity: { audience: "", serviceAccount: PUSH_SERVICE_ACCOUNT },
    published: [],
    sent: [],
    env: () => ({
      GOOGLE_OAUTH_AUTH_URL: `${base}/o/oauth2/v2/auth`,
      GOOGLE_OAUTH_TOKEN_URL: `${base}/token`,
      GOOGLE_OAUTH_CERTS_URL: `${base}/oauth2/v1/certs`,
      GMAIL_API_ROOT_URL: `${base}/`,
      GMAIL_PUSH_SERVICE_ACCOUNT: PUSH_SERVICE_ACCOUNT,
    }),
    consent: async (authorizationUrl, consentOpts = {}) => {
      const url = new URL(authorizationUrl);
      // Google's account chooser parameter: the browser is signed in as this user.
      if (consentOpts.email !== undefined) url.searchParams.set("authuser", consentOpts.email);
      const res = await fetch(url, { redirect: "manual" });
      const location = res.headers.get("location");
      if (res.status !== 302 || !location) throw new Error(`consent answered ${res.status}: ${await res.text()}`);
      return location;
    },
    deliver: async (raw, deliverOpts = {}) => {
      const box = mailboxOf(deliverOpts.mailbox);
      const message = box.add(raw, deliverOpts);
      const push = deliverOpts.notify === false ? null : await publish(box);
      return { message, push };
    },
    pushRequest: (p = {}) => {
      const box = mailboxOf(p.mailbox);
      const target = (box.watch ? fake.pushTargets.get(box.watch.topicName) : undefined) ?? fake.pushIdentity;
      const notification = { emailAddress: p.emailAddress ?? box.emailAddress, historyId: p.historyId ?? Number(box.historyId) };
      const token = p.token ?? oauth.signPushToken({ audience: target.audience, email: target.serviceAccount });
      return { headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: envelope(notification) };
    },
    fail: (f) => void failures.push({ ...f }),
    clearFailures: () => void failures.splice(0),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  oauth.register(fake.client);
  for (const other of others) fake.addMailbox(other);

  function mailboxOf(address: string | undefined): FakeGmailMailbox {
    if (address === undefined) return mailbox;
    const box = mailboxes.get(address);
    if (!box) throw new Error(`the fake Google has no mailbox ${address}`);
    return box;
  }

  async function publish(box: FakeGmailMailbox): Promise<Response | null> {
    const watch = box.watch;
    if (!watch || watch.expiration < Date.now()) return null;
    const notification = { emailAddress: box.emailAddress, historyId: Number(box.historyId) };
    const data = Buffer.from(JSON.stringify(notification)).toString("base64");
    fake.published.push({ topic: watch.topicName, data, notification });
    fake.pullTargets.get(watch.topicName)?.(data);
    const target = fake.pushTargets.get(watch.topicName);
    if (!target) return null;
    const token = oauth.signPushToken({ audience: target.audience, email: target.serviceAccount });
    return fetch(target.endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(envelope(notification)),
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: 500, message: String(err), status: "INTERNAL" } }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", base);
    const method = req.method ?? "GET";
    const log: LoggedRequest = { method, path: `${url.pathname}${url.search}`, status: 0 };
    requests.push(log);
    const body = await readBody(req);
    const send = (status: number, value?: unknown, headers: Record<string, string> = {}) => {
      log.status = status;
      if (value === undefined) {
        res.writeHead(status, headers);
        res.end();
        return;
      }
      res.writeHead(status, { "content-type": "application/json; charset=UTF-8", ...headers });
      res.end(JSON.stringify(value));
    };

    const failure = failures.find((f) => f.times > 0 && url.pathname.includes(f.pathIncludes) && (!f.method || f.method === method));
    if (failure) {
      failure.times--;
      return send(failure.status, googleError(failure.status, failure.message ?? failure.reason, failure.reason), failure.retryAfterSeconds ? { "retry-after": String(failure.retryAfterSeconds) } : {});
    }

    if (method === "GET" && url.pathname === "/o/oauth2/v2/auth") {
      const answer = oauth.authorize(url.searchParams);
      if ("location" in answer) {
        log.status = 302;
        res.writeHead(302, { location: answer.location });
        return void res.end();
      }
      log.status = answer.status;
      res.writeHead(answer.status, { "content-type": "text/plain" });
      return void res.end(answer.text);
    }
    if (method === "POST" && url.pathname === "/token") {
      const answer = oauth.token(new URLSearchParams(body.toString("utf8")));
      return send(answer.status, answer.body);
    }
    if (method === "GET" && url.pathname === "/oauth2/v1/certs") {
      return send(200, oauth.certs(), { "cache-control": "public, max-age=3600" });
    }
    const gmailPath = /^\/gmail\/v1\/users\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (!gmailPath) return send(404, googleError(404, `No route for ${method} ${url.pathname}`, "notFound"));
    const grant = oauth.authenticate(req.headers.authorization);
    if (!grant) return send(401, googleError(401, "Request had invalid authentication credentials. Expected OAuth 2 access token.", "authError", "UNAUTHENTICATED"));
    // The token's user is `me`; naming anyone else is delegation, which the fake does not grant.
    const userId = decodeURIComponent(gmailPath[1]!);
    if (userId !== "me" && userId !== grant.email) return send(403, googleError(403, "Delegation denied", "forbidden"));
    const box = mailboxes.get(grant.email);
    if (!box) return send(400, googleError(400, "Mail service not enabled", "failedPrecondition", "FAILED_PRECONDITION"));
    return gmail(box, method, gmailPath[2]!, url.searchParams, body.length ? JSON.parse(body.toString("utf8")) : {}, send);
  }

  function gmail(mailbox: FakeGmailMailbox, method: string, path: string, q: URLSearchParams, json: Record<string, unknown>, send: (s: number, v?: unknown) => void): void {
    if (method === "GET" && path === "/profile") {
      return send(200, { emailAddress: mailbox.emailAddress, messagesTotal: mailbox.messages.size, threadsTotal: mailbox.messages.size, historyId: String(mailbox.historyId) });
    }
    if (method === "POST" && path === "/watch") {
      const topicName = String(json.topicName ?? "");
      if (!/^projects\/[^/]+\/topics\/[^/]+$/.test(topicName)) return send(400, googleError(400, "Invalid topicName does not match projects/SOME_ANDROID_PROJECT/topics/*", "invalidArgument"));
      if (!fake.grantedTopics.has(topicName)) {
        return send(403, googleError(403, `Error sending test message to Cloud PubSub ${topicName} : User not authorized to perform this action.`, "forbidden"));
      }
      const expiration = Date.now() + 7 * 24 * 3600 * 1000;
      mailbox.watch = { topicName, expiration, labelIds: (json.labelIds as string[] | undefined) ?? [] };
      return send(200, { historyId: String(mailbox.historyId), expiration: String(expiration) });
    }
    if (method === "POST" && path === "/stop") {
      mailbox.watch = null;
      fake.stops++;
      return send(204);
    }
    if (method === "GET" && path === "/history") {
      const start = BigInt(q.get("startHistoryId") ?? "0");
      if (start < mailbox.historyFloor) return send(404, googleError(404, "Requested entity was not found.", "notFound", "NOT_FOUND"));
      const maxResults = Math.min(Number(q.get("maxResults") ?? 100), historyPageSize);
      const offset = Number(q.get("pageToken") ?? 0);
      const { page, more } = mailbox.listHistory(start, { labelId: q.get("labelId") ?? undefined, maxResults, offset });
      return send(200, {
        ...(page.length ? { history: page.map((h) => ({ id: String(h.id), messages: [ref(h.message)], messagesAdded: [{ message: { ...ref(h.message), labelIds: h.labelIdsAtAdd } }] })) } : {}),
        ...(more ? { nextPageToken: String(offset + maxResults) } : {}),
        historyId: String(mailbox.historyId),
      });
    }
    if (method === "GET" && path === "/messages") {
      const all = mailbox.search(q.get("q") ?? "");
      const maxResults = Math.min(Number(q.get("maxResults") ?? 100), historyPageSize);
      const offset = Number(q.get("pageToken") ?? 0);
      const page = all.slice(offset, offset + maxResults);
      return send(200, {
        ...(page.length ? { messages: page.map(ref) } : {}),
        ...(offset + maxResults < all.length ? { nextPageToken: String(offset + maxResults) } : {}),
        resultSizeEstimate: all.length,
      });
    }
    if (method === "POST" && path === "/messages/send") {
      const raw = Buffer.from(String(json.raw ?? ""), "base64url");
      // Gmail reads the recipients from the headers; without one it refuses the message.
      const head = raw.toString("latin1").split(/\r?\n\r?\n/, 1)[0] ?? "";
      if (!/^(to|cc|bcc):\s*\S/im.test(head)) return send(400, googleError(400, "Invalid To header", "invalidArgument", "INVALID_ARGUMENT"));
      const threadId = typeof json.threadId === "string" && [...mailbox.messages.values()].some((m) => m.threadId === json.threadId) ? json.threadId : undefined;
      const sent = mailbox.add(raw, { labelIds: ["SENT"], threadId });
      fake.sent.push(sent);
      return send(200, { ...ref(sent), labelIds: sent.labelIds });
    }
    const messagePath = /^\/messages\/([^/]+)(\/modify)?$/.exec(path);
    if (messagePath) {
      const message = mailbox.messages.get(messagePath[1]!);
      if (!message) return send(404, googleError(404, "Requested entity was not found.", "notFound", "NOT_FOUND"));
      if (method === "GET" && !messagePath[2]) {
        return send(200, {
          ...ref(message),
          labelIds: message.labelIds,
          snippet: "",
          historyId: String(message.historyId),
          internalDate: String(message.internalDate),
          sizeEstimate: message.raw.length,
          ...(q.get("format") === "raw" ? { raw: message.raw.toString("base64url") } : {}),
        });
      }
      if (method === "POST" && messagePath[2]) {
        const modified = mailbox.modify(message.id, (json.addLabelIds as string[]) ?? [], (json.removeLabelIds as string[]) ?? []);
        return send(200, { ...ref(modified!), labelIds: modified!.labelIds });
      }
    }
    if (path === "/labels") {
      if (method === "GET") return send(200, { labels: mailbox.labels });
      if (method === "POST") return send(200, mailbox.createLabel(String(json.name)));
    }
    return send(404, googleError(404, `No Gmail route for ${method} ${path}`, "notFound"));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.url = base;
  return fake;
}

const ref = (m: FakeGmailMessage) => ({ id: m.id, threadId: m.threadId });

let publishCounter = 1_000_000;
function envelope(notification: { emailAddress: string; historyId: number | string }) {
  const messageId = String(publishCounter++);
  return {
    message: {
      data: Buffer.from(JSON.stringify(notification)).toString("base64"),
      messageId,
      message_id: messageId,
      publishTime: new Date().toISOString(),
      publish_time: new Date().toISOString(),
    },
    subscription: "projects/fake-project/subscriptions/gmail-push",
  };
}

function googleError(code: number, message: string, reason: string, status?: string) {
  return { error: { code, message, errors: [{ message, domain: "global", reason }], status: status ?? statusOf(code) } };
}

const statusOf = (code: number) =>
  ({ 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE" })[code] ?? "UNKNOWN";

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
