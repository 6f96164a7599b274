// A loopback HTTPS fake of Microsoft's identity platform and Graph, speaking the documented
// protocol to the real @microsoft/microsoft-graph-client: bearer tokens, Prefer: IdType="ImmutableId",
// subscriptions with the validation handshake, notifications and lifecycle events, $value, and
// the delta query with absolute https nextLink/deltaLink, 410 for a lost delta state, sendMail in
// its MIME form (fake-send-mail.ts), and 429/503 with Retry-After or any other Graph error on demand.
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { FakeIdentity, type AppRegistration } from "./fake-identity.ts";
import { FakeMailbox, type FakeMessage } from "./fake-mailbox.ts";
import { acceptSendMail, type SentMail } from "./fake-send-mail.ts";
import { FakeSubscriptions, graphError, type Delivery, type FakeSubscription, type GraphAnswer } from "./fake-subscriptions.ts";
import { testCertificate } from "./test-certificate.ts";

export type LoggedRequest = { method: string; path: string; at: number; prefer: string | null; authorized: boolean; status: number };

/** A 429 or 503 (throttling, with Retry-After), or a 500 (Graph failing). */
export type Throttle = { method?: string; pathIncludes: string; status: 429 | 500 | 503; retryAfterSeconds: number; times: number };

/** Any Graph error: the status, Graph's code and words, and Retry-After when given. */
export type Failure = {
  method?: string;
  pathIncludes: string;
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
  times: number;
};

export type FakeUser = { id: string; displayName: string; mail: string };

export type FakeMicrosoft = {
  url: string;
  graphApiUrl: string;
  loginUrl: string;
  app: AppRegistration;
  user: FakeUser;
  identity: FakeIdentity;
  mailbox: FakeMailbox;
  subscriptions: FakeSubscriptions;
  requests: LoggedRequest[];
  /** What sendMail accepted, in order. */
  sent: SentMail[];
  /** GRAPH_API_URL and MICROSOFT_LOGIN_URL for mailgate's configuration. */
  env(): Record<string, string>;
  /** Plays the user's browser at the consent page; returns where Microsoft redirects it. */
  consent(authorizationUrl: string): Promise<string>;
  /** New mail in the Inbox; notifies every live subscription unless `notify` is false (a lost notification). */
  deliver(raw: Buffer, opts?: { notify?: boolean; receivedAt?: Date }): Promise<{ message: FakeMessage; deliveries: Delivery[] }>;
  /** Sends a notification about a message as a subscription would (clientState overridable: a forgery). */
  notify(subscriptionId: string, messageId: string, opts?: { clientState?: string | null }): Promise<Delivery>;
  /** Sends a lifecycle event; subscriptionRemoved also deletes the subscription first, as Graph does. */
  lifecycle(subscriptionId: string, event: "reauthorizationRequired" | "subscriptionRemoved" | "missed"): Promise<Delivery>;
  /** The next `times` requests matching answer `status` with Retry-After. */
  throttle(t: Throttle): void;
  /** The next `times` requests matching answer this error. */
  fail(f: Failure): void;
  close(): Promise<void>;
};

export async function startFakeMicrosoft(
  opts: { app?: Partial<AppRegistration>; user?: Partial<FakeUser>; defaultPageSize?: number } = {},
): Promise<FakeMicrosoft> {
  const app: AppRegistration = {
    tenantId: "11111111-2222-3333-4444-555555555555",
    clientId: "66666666-7777-8888-9999-000000000000",
    clientSecret: "fake~client~secret~value",
    ...opts.app,
  };
  const user: FakeUser = { id: randomUUID(), displayName: "Support", mail: "support@contoso.test", ...opts.user };
  const identity = new FakeIdentity(app);
  const mailbox = new FakeMailbox();
  const subscriptions = new FakeSubscriptions(app.tenantId);
  const requests: LoggedRequest[] = [];
  const sent: SentMail[] = [];
  const failures: Failure[] = [];
  const defaultPageSize = opts.defaultPageSize ?? 10;

  let base = "";
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", base);
    const path = decodeURIComponent(url.pathname);
    const log: LoggedRequest = {
      method: req.method ?? "GET",
      path: `${path}${url.search}`,
      at: performance.now(),
      prefer: (req.headers.prefer as string | undefined) ?? null,
      authorized: false,
      status: 0,
    };
    requests.push(log);
    const body = await readBody(req);
    const send = (answer: GraphAnswer & { headers?: Record<string, string>; text?: string }) => {
      log.status = answer.status;
      const headers: Record<string, string> = { ...answer.headers };
      if (answer.text !== undefined) headers["Content-Type"] ??= "text/plain";
      else if (answer.body !== undefined) headers["Content-Type"] = "application/json";
      res.writeHead(answer.status, headers);
      res.end(answer.text ?? (answer.body === undefined ? undefined : JSON.stringify(answer.body)));
    };

    const oauth = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token)$/.exec(path);
    if (oauth) {
      const [, tenant, endpoint] = oauth;
      if (endpoint === "authorize" && req.method === "GET") {
        const answer = identity.authorize(tenant!, url.searchParams);
        return send(answer.location ? { status: 302, headers: { Location: answer.location } } : { status: answer.status, text: answer.text ?? "" });
      }
      if (endpoint === "token" && req.method === "POST") {
        return send(identity.token(tenant!, new URLSearchParams(body.toString("utf8"))));
      }
      return send({ status: 405, text: "method not allowed" });
    }

    if (!path.startsWith("/v1.0/")) return send(graphError(404, "BadRequest", `Unsupported path ${path}`));
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!bearer || !identity.isValidAccessToken(bearer)) {
      return send(graphError(401, "InvalidAuthenticationToken", bearer ? "Access token has expired or is not valid." : "Access token is empty."));
    }
    log.authorized = true;
    const failure = failures.find((f) => f.times > 0 && (!f.method || f.method === req.method) && log.path.includes(f.pathIncludes));
    if (failure) {
      failure.times--;
      return send({
        ...graphError(failure.status, failure.code, failure.message),
        ...(failure.retryAfterSeconds === undefined ? {} : { headers: { "Retry-After": String(failure.retryAfterSeconds) } }),
      });
    }
    const immutable = /IdType="ImmutableId"/i.test(log.prefer ?? "");
    const route = path.slice("/v1.0".length);

    if (route === "/me" && req.method === "GET") {
      return send({ status: 200, body: { "@odata.context": `${base}/v1.0/$metadata#users/$entity`, ...user, userPrincipalName: user.mail } });
    }
    if (route === "/me/sendMail" && req.method === "POST") {
      const accepted = await acceptSendMail({
        contentType: req.headers["content-type"],
        body,
        maySend: identity.accessTokenHasScope(bearer, "Mail.Send"),
        mailbox: user.mail,
      });
      if (accepted.sent) sent.push(accepted.sent);
      return send(accepted.answer);
    }
    if (route === "/subscriptions" && req.method === "POST") {
      return send(await subscriptions.create(json(body), immutable, app.clientId));
    }
    const subMatch = /^\/subscriptions\/([^/]+)$/.exec(route);
    if (subMatch) {
      if (req.method === "PATCH") return send(subscriptions.patch(subMatch[1]!, json(body), app.clientId));
      if (req.method === "DELETE") return send(subscriptions.remove(subMatch[1]!));
      const sub = subscriptions.live(subMatch[1]!);
      return send(sub ? { status: 200, body: sub } : graphError(404, "ResourceNotFound", "The object was not found."));
    }
    const valueMatch = /^\/me\/messages\/([^/]+)\/\$value$/.exec(route);
    if (valueMatch && req.method === "GET") {
      const message = mailbox.find(valueMatch[1]!);
      if (!message) return send(graphError(404, "ErrorItemNotFound", "The specified object was not found in the store."));
      log.status = 200;
      res.writeHead(200, { "Content-Type": "text/plain" });
      return res.end(message.raw);
    }
    if (/^\/me\/mailFolders\('inbox'\)\/messages\/delta$/i.test(route) && req.method === "GET") {
      return send(delta(url, immutable, log.prefer));
    }
    return send(graphError(400, "BadRequest", `Resource not found for the segment '${route}'.`));
  };

  const delta = (url: URL, immutable: boolean, prefer: string | null): GraphAnswer => {
    const q = url.searchParams;
    const skip = q.get("$skiptoken");
    const since = /receivedDateTime\s+(?:ge|gt)\s+(\S+)/i.exec(q.get("$filter") ?? "")?.[1] ?? null;
    const state = skip ? mailbox.continueDelta(skip) : mailbox.startDelta({ deltaToken: q.get("$deltatoken") ?? undefined, since });
    if (state === "expired") {
      return graphError(410, "SyncStateNotFound", "The sync state generation is not found. Please resync.");
    }
    const pageSize = Number(/odata\.maxpagesize=(\d+)/i.exec(prefer ?? "")?.[1] ?? defaultPageSize);
    const page = mailbox.page(state, pageSize);
    const link = `${base}/v1.0/me/mailFolders('Inbox')/messages/delta?${page.next.kind === "skip" ? "$skiptoken" : "$deltatoken"}=${page.next.token}`;
    return {
      status: 200,
      body: {
        "@odata.context": `${base}/v1.0/$metadata#Collection(message)`,
        value: page.items.map((m) => ({
          "@odata.type": "#microsoft.graph.message",
          "@odata.etag": `W/"${m.seq}"`,
          id: immutable ? m.immutableId : m.id,
          receivedDateTime: m.receivedDateTime,
        })),
        [page.next.kind === "skip" ? "@odata.nextLink" : "@odata.deltaLink"]: link,
      },
    };
  };

  const server: Server = createServer({ cert: testCertificate.cert, key: testCertificate.key }, (req, res) => {
    handler(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`fake failed: ${err.message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const subscription = (id: string) => {
    const sub = subscriptions.all.get(id);
    if (!sub) throw new Error(`the fake has no subscription ${id}`);
    return sub;
  };
  const idFor = (sub: FakeSubscription, m: FakeMessage) => (sub.immutableIds ? m.immutableId : m.id);

  return {
    url: base,
    graphApiUrl: `${base}/v1.0`,
    loginUrl: base,
    app,
    user,
    identity,
    mailbox,
    subscriptions,
    requests,
    sent,
    env: () => ({ GRAPH_API_URL: `${base}/v1.0`, MICROSOFT_LOGIN_URL: base }),
    consent: async (authorizationUrl) => {
      const res = await fetch(authorizationUrl, { redirect: "manual" });
      const location = res.headers.get("location");
      if (res.status !== 302 || !location) throw new Error(`consent failed: ${res.status} ${await res.text()}`);
      return location;
    },
    deliver: async (raw, o = {}) => {
      const message = mailbox.add(raw, o.receivedAt ?? new Date());
      if (o.notify === false) return { message, deliveries: [] };
      const deliveries = await Promise.all(
        subscriptions
          .liveOnes()
          .filter((s) => s.changeType.split(",").includes("created"))
          .map((s) => subscriptions.notify(s, [subscriptions.notificationFor(s, user.id, idFor(s, message))])),
      );
      return { message, deliveries };
    },
    notify: (subscriptionId, messageId, o = {}) => {
      const sub = subscription(subscriptionId);
      const clientState = o.clientState === undefined ? sub.clientState : o.clientState;
      return subscriptions.notify(sub, [subscriptions.notificationFor(sub, user.id, messageId, clientState)]);
    },
    lifecycle: async (subscriptionId, event) => {
      const sub = subscription(subscriptionId);
      if (event === "subscriptionRemoved") subscriptions.all.delete(subscriptionId);
      return subscriptions.lifecycle(sub, event);
    },
    throttle: (t) =>
      void failures.push({
        ...t,
        ...(t.status === 500
          ? { code: "InternalServerError", message: "An internal server error occurred." }
          : { code: t.status === 429 ? "TooManyRequests" : "ServiceUnavailable", message: "Application is over its MailboxConcurrency limit." }),
      }),
    fail: (f) => void failures.push({ ...f }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(body: Buffer): Record<string, unknown> {
  try {
    const value = JSON.parse(body.toString("utf8")) as unknown;
    return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
