// A loopback HTTPS fake of Microsoft's identity platform and Graph, speaking the documented
// protocol to the real @microsoft/microsoft-graph-client: bearer tokens, Prefer: IdType="ImmutableId",
// subscriptions with the validation handshake, notifications and lifecycle events, $value, and
// the delta query with absolute https nextLink/deltaLink, 410 for a lost delta state, sendMail in
// its MIME form (fake-send-mail.ts), and 429/503 with Retry-After or any other Graph error on demand.
// Like Graph, one API root serves many users: sign-in picks the user (login_hint, or the account
// the consent helper signs in as), the token names that user for /me, and each user has a mailbox
// and subscriptions of their own. The first user is the default one (`user`, `mailbox`).
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

/** A user of the fake's directory and the Inbox they own. */
type Account = { user: FakeUser; mailbox: FakeMailbox };

export type FakeMicrosoft = {
  url: string;
  graphApiUrl: string;
  loginUrl: string;
  app: AppRegistration;
  /** The first (default) user, and their mailbox. */
  user: FakeUser;
  identity: FakeIdentity;
  mailbox: FakeMailbox;
  /** Every user in the directory, the default one first. */
  users(): FakeUser[];
  /** Another user with a mailbox of their own. */
  addUser(user: Partial<FakeUser> & { mail: string }): FakeUser;
  /** The mailbox of a user, by mail or id. */
  mailboxOf(user: string): FakeMailbox;
  subscriptions: FakeSubscriptions;
  requests: LoggedRequest[];
  /** What sendMail accepted, in order. */
  sent: SentMail[];
  /** GRAPH_API_URL and MICROSOFT_LOGIN_URL for mailgate's configuration. */
  env(): Record<string, string>;
  /**
   * Plays the user's browser at the consent page; returns where Microsoft redirects it. The user
   * signing in is `mail` if given, else the URL's login_hint, else the default user.
   */
  consent(authorizationUrl: string, opts?: { mail?: string }): Promise<string>;
  /**
   * New mail in the Inbox of `to` (mail or id; the default user's without it); notifies that
   * user's live subscriptions unless `notify` is false (a lost notification).
   */
  deliver(raw: Buffer, opts?: { notify?: boolean; receivedAt?: Date; to?: string }): Promise<{ message: FakeMessage; deliveries: Delivery[] }>;
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
  opts: {
    app?: Partial<AppRegistration>;
    /** The default user (the first of `users`). */
    user?: Partial<FakeUser>;
    /** The directory's users, the first the default; more can be added with addUser. */
    users?: Array<Partial<FakeUser>>;
    defaultPageSize?: number;
  } = {},
): Promise<FakeMicrosoft> {
  const app: AppRegistration = {
    tenantId: "11111111-2222-3333-4444-555555555555",
    clientId: "66666666-7777-8888-9999-000000000000",
    clientSecret: "fake~client~secret~value",
    ...opts.app,
  };
  const accounts = new Map<string, Account>();
  const addUser = (u: Partial<FakeUser> & { mail: string }): FakeUser => {
    const user: FakeUser = { id: randomUUID(), displayName: u.mail.split("@")[0]!, ...u };
    if (accountOf(user.mail) || accountOf(user.id)) throw new Error(`the fake already has a user ${user.mail}`);
    const account = { user, mailbox: new FakeMailbox() };
    accounts.set(user.id.toLowerCase(), account).set(user.mail.toLowerCase(), account);
    return user;
  };
  /** By id or mail, as Graph's users/{id | userPrincipalName} and login_hint name them. */
  const accountOf = (key: string): Account | undefined => accounts.get(key.toLowerCase());
  const user = addUser({ displayName: "Support", mail: "support@contoso.test", ...opts.users?.[0], ...opts.user });
  for (const [i, other] of (opts.users ?? []).entries()) if (i > 0) addUser({ mail: `user${i}@contoso.test`, ...other });
  const mailbox = accountOf(user.id)!.mailbox;
  const identity = new FakeIdentity(app);
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
        const hint = url.searchParams.get("login_hint");
        const signedIn = hint === null ? user : accountOf(hint)?.user;
        if (!signedIn) return send({ status: 400, text: `AADSTS50034: The user account ${hint} does not exist in the directory.` });
        const answer = identity.authorize(tenant!, url.searchParams, signedIn.id);
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
    const caller = accountOf(identity.userOf(bearer)!)!;

    if (route === "/subscriptions" && req.method === "POST") {
      return send(await subscriptions.create(json(body), immutable, app.clientId, caller.user));
    }
    const subMatch = /^\/subscriptions\/([^/]+)$/.exec(route);
    if (subMatch) {
      // Another user's subscription is as unknown to this token as one that does not exist.
      const owned = subscriptions.all.get(subMatch[1]!)?.userId === caller.user.id;
      if (!owned) return send(graphError(404, "ResourceNotFound", "The object was not found."));
      if (req.method === "PATCH") return send(subscriptions.patch(subMatch[1]!, json(body), app.clientId));
      if (req.method === "DELETE") return send(subscriptions.remove(subMatch[1]!));
      const sub = subscriptions.live(subMatch[1]!);
      return send(sub ? { status: 200, body: sub } : graphError(404, "ResourceNotFound", "The object was not found."));
    }

    // The signed-in user's own data, as /me/... or /users/{id or mail}/...
    const scoped = /^(\/me|\/users\/([^/]+))(\/.*)?$/i.exec(route);
    if (!scoped) return send(graphError(400, "BadRequest", `Resource not found for the segment '${route}'.`));
    const [, prefix, named, rest = ""] = scoped;
    const target = named === undefined ? caller : accountOf(named);
    if (!target) return send(graphError(404, "Request_ResourceNotFound", `Resource '${named}' does not exist or one of its queried reference-property objects are not present.`));
    if (target !== caller) return send(graphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."));
    const { user: me, mailbox: box } = target;

    if (rest === "" && req.method === "GET") {
      return send({ status: 200, body: { "@odata.context": `${base}/v1.0/$metadata#users/$entity`, ...me, userPrincipalName: me.mail } });
    }
    if (rest === "/sendMail" && req.method === "POST") {
      const accepted = await acceptSendMail({
        contentType: req.headers["content-type"],
        body,
        maySend: identity.accessTokenHasScope(bearer, "Mail.Send"),
        mailbox: me.mail,
      });
      if (accepted.sent) sent.push(accepted.sent);
      return send(accepted.answer);
    }
    const valueMatch = /^\/messages\/([^/]+)\/\$value$/.exec(rest);
    if (valueMatch && req.method === "GET") {
      const message = box.find(valueMatch[1]!);
      if (!message) return send(graphError(404, "ErrorItemNotFound", "The specified object was not found in the store."));
      log.status = 200;
      res.writeHead(200, { "Content-Type": "text/plain" });
      return res.end(message.raw);
    }
    if (/^\/mailFolders\('inbox'\)\/messages\/delta$/i.test(rest) && req.method === "GET") {
      return send(delta(box, prefix!, url, immutable, log.prefer));
    }
    return send(graphError(400, "BadRequest", `Resource not found for the segment '${route}'.`));
  };

  /** A page of the delta query on `box`; its links keep the caller's /me or /users/{...} form. */
  const delta = (box: FakeMailbox, prefix: string, url: URL, immutable: boolean, prefer: string | null): GraphAnswer => {
    const q = url.searchParams;
    const skip = q.get("$skiptoken");
    const since = /receivedDateTime\s+(?:ge|gt)\s+(\S+)/i.exec(q.get("$filter") ?? "")?.[1] ?? null;
    const state = skip ? box.continueDelta(skip) : box.startDelta({ deltaToken: q.get("$deltatoken") ?? undefined, since });
    if (state === "expired") {
      return graphError(410, "SyncStateNotFound", "The sync state generation is not found. Please resync.");
    }
    const pageSize = Number(/odata\.maxpagesize=(\d+)/i.exec(prefer ?? "")?.[1] ?? defaultPageSize);
    const page = box.page(state, pageSize);
    const link = `${base}/v1.0${prefix}/mailFolders('Inbox')/messages/delta?${page.next.kind === "skip" ? "$skiptoken" : "$deltatoken"}=${page.next.token}`;
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
    users: () => [...new Set(accounts.values())].map((a) => a.user),
    addUser,
    mailboxOf: (key) => {
      const account = accountOf(key);
      if (!account) throw new Error(`the fake has no user ${key}`);
      return account.mailbox;
    },
    subscriptions,
    requests,
    sent,
    env: () => ({ GRAPH_API_URL: `${base}/v1.0`, MICROSOFT_LOGIN_URL: base }),
    consent: async (authorizationUrl, o = {}) => {
      const url = new URL(authorizationUrl);
      // The account the user picks at the sign-in page, as Microsoft then knows it.
      if (o.mail !== undefined) url.searchParams.set("login_hint", o.mail);
      const res = await fetch(url, { redirect: "manual" });
      const location = res.headers.get("location");
      if (res.status !== 302 || !location) throw new Error(`consent failed: ${res.status} ${await res.text()}`);
      return location;
    },
    deliver: async (raw, o = {}) => {
      const to = o.to === undefined ? accountOf(user.id)! : accountOf(o.to);
      if (!to) throw new Error(`the fake has no user ${o.to}`);
      const message = to.mailbox.add(raw, o.receivedAt ?? new Date());
      if (o.notify === false) return { message, deliveries: [] };
      const deliveries = await Promise.all(
        subscriptions
          .liveOnes(to.user.id)
          .filter((s) => s.changeType.split(",").includes("created"))
          .map((s) => subscriptions.notify(s, [subscriptions.notificationFor(s, to.user.id, idFor(s, message))])),
      );
      return { message, deliveries };
    },
    notify: (subscriptionId, messageId, o = {}) => {
      const sub = subscription(subscriptionId);
      const clientState = o.clientState === undefined ? sub.clientState : o.clientState;
      return subscriptions.notify(sub, [subscriptions.notificationFor(sub, sub.userId, messageId, clientState)]);
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
