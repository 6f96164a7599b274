// The fake's change-notification service: subscriptions created only after the validation
// handshake with both of the subscriber's URLs (a POST with ?validationToken=..., answered with
// the decoded token as text/plain within 10 s), Graph's 10,070-minute ceiling, PATCH and DELETE,
// and the notifications and lifecycle events a real subscription produces. A subscription belongs
// to the user whose token created it, on that user's Inbox (me/... or users/{id or mail}/...).
import { randomBytes, randomUUID } from "node:crypto";

export const MAX_MINUTES = 10_070;

export type FakeSubscription = {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  expirationDateTime: string;
  /** Created with Prefer: IdType="ImmutableId": notifications then carry immutable ids. */
  immutableIds: boolean;
  /** The user whose Inbox it watches (who created it). */
  userId: string;
};

/** Who is creating a subscription: the signed-in user, named by id or mail in a users/... resource. */
export type SubscriptionOwner = { id: string; mail: string };

export type Delivery = { url: string; status: number; ms: number; error?: string };

export type GraphAnswer = { status: number; body?: unknown };

export const graphError = (status: number, code: string, message: string): GraphAnswer => ({
  status,
  body: { error: { code, message, innerError: { date: new Date().toISOString(), "request-id": randomUUID(), "client-request-id": randomUUID() } } },
});

export class FakeSubscriptions {
  private readonly tenantId: string;
  readonly all = new Map<string, FakeSubscription>();
  /** Every validation, notification and lifecycle POST the fake made, with how it went. */
  readonly deliveries: Delivery[] = [];
  validationTimeoutMs = 10_000;

  constructor(tenantId: string) {
    this.tenantId = tenantId;
  }

  async create(body: Record<string, unknown>, immutableIds: boolean, applicationId: string, owner: SubscriptionOwner): Promise<GraphAnswer> {
    const problem = this.checkCreate(body, owner);
    if (problem) return problem;
    const notificationUrl = String(body.notificationUrl);
    const lifecycleNotificationUrl = typeof body.lifecycleNotificationUrl === "string" ? body.lifecycleNotificationUrl : null;
    for (const url of [notificationUrl, lifecycleNotificationUrl]) {
      if (url && !(await this.validate(url))) {
        return graphError(
          400,
          "ValidationError",
          "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
        );
      }
    }
    const sub: FakeSubscription = {
      id: randomUUID(),
      resource: String(body.resource),
      changeType: String(body.changeType),
      notificationUrl,
      lifecycleNotificationUrl,
      clientState: typeof body.clientState === "string" ? body.clientState : null,
      expirationDateTime: new Date(String(body.expirationDateTime)).toISOString(),
      immutableIds,
      userId: owner.id,
    };
    this.all.set(sub.id, sub);
    return { status: 201, body: this.view(sub, applicationId) };
  }

  patch(id: string, body: Record<string, unknown>, applicationId: string): GraphAnswer {
    const sub = this.live(id);
    if (!sub) return graphError(404, "ResourceNotFound", `The object was not found.`);
    const expiry = this.checkExpiry(body.expirationDateTime);
    if (typeof expiry !== "string") return expiry;
    sub.expirationDateTime = expiry;
    return { status: 200, body: this.view(sub, applicationId) };
  }

  remove(id: string): GraphAnswer {
    return this.all.delete(id) ? { status: 204 } : graphError(404, "ResourceNotFound", "The object was not found.");
  }

  /** Live subscriptions: Graph deletes expired ones by itself. */
  live(id: string): FakeSubscription | undefined {
    const sub = this.all.get(id);
    if (sub && Date.parse(sub.expirationDateTime) <= Date.now()) {
      this.all.delete(id);
      return undefined;
    }
    return sub;
  }

  /** Every live subscription, or only those on one user's Inbox. */
  liveOnes(userId?: string): FakeSubscription[] {
    return [...this.all.values()]
      .filter((s) => userId === undefined || s.userId === userId)
      .map((s) => this.live(s.id))
      .filter((s): s is FakeSubscription => s !== undefined);
  }

  /** POSTs one change notification collection; resolves with the status our endpoint answered. */
  async notify(sub: FakeSubscription, items: Array<Record<string, unknown>>): Promise<Delivery> {
    return this.post(sub.notificationUrl, { value: items });
  }

  notificationFor(sub: FakeSubscription, userId: string, messageId: string, clientState = sub.clientState): Record<string, unknown> {
    const resource = `Users/${userId}/Messages/${messageId}`;
    return {
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: sub.expirationDateTime,
      changeType: "created",
      resource,
      resourceData: {
        "@odata.type": "#Microsoft.Graph.Message",
        "@odata.id": resource,
        "@odata.etag": `W/"${randomBytes(12).toString("base64")}"`,
        id: messageId,
      },
      clientState,
      tenantId: this.tenantId,
    };
  }

  async lifecycle(sub: FakeSubscription, lifecycleEvent: string): Promise<Delivery> {
    if (!sub.lifecycleNotificationUrl) throw new Error(`subscription ${sub.id} has no lifecycleNotificationUrl`);
    return this.post(sub.lifecycleNotificationUrl, {
      value: [
        {
          subscriptionId: sub.id,
          subscriptionExpirationDateTime: sub.expirationDateTime,
          tenantId: this.tenantId,
          clientState: sub.clientState,
          lifecycleEvent,
        },
      ],
    });
  }

  private checkCreate(body: Record<string, unknown>, owner: SubscriptionOwner): GraphAnswer | null {
    const inbox = typeof body.resource === "string" ? /^\/?(me|users\/([^/]+))\/mailFolders\('inbox'\)\/messages$/i.exec(body.resource) : null;
    if (!inbox) {
      return graphError(400, "InvalidRequest", `Resource '${String(body.resource)}' is not supported by this fake; use me/mailFolders('Inbox')/messages.`);
    }
    const named = inbox[2] === undefined ? null : decodeURIComponent(inbox[2]).toLowerCase();
    if (named !== null && named !== owner.id.toLowerCase() && named !== owner.mail.toLowerCase()) {
      // Delegated permissions reach only the signed-in user's own mailbox.
      return graphError(403, "ExtensionError", "Operation: Create; Exception: [Status Code: Forbidden; Reason: Access is denied. Check credentials and try again.]");
    }
    const types = String(body.changeType ?? "").split(",");
    if (types.length === 0 || !types.every((t) => ["created", "updated", "deleted"].includes(t))) {
      return graphError(400, "InvalidRequest", `Invalid changeType '${String(body.changeType)}'.`);
    }
    for (const key of ["notificationUrl", "lifecycleNotificationUrl"] as const) {
      const url = body[key];
      if (url !== undefined && (typeof url !== "string" || !url.startsWith("https://"))) {
        return graphError(400, "InvalidRequest", `The ${key} must be an https URL.`);
      }
    }
    if (typeof body.notificationUrl !== "string") return graphError(400, "InvalidRequest", "notificationUrl is required.");
    if (typeof body.clientState === "string" && body.clientState.length > 128) {
      return graphError(400, "InvalidRequest", "clientState must be 128 characters or fewer.");
    }
    const expiry = this.checkExpiry(body.expirationDateTime);
    if (typeof expiry !== "string") return expiry;
    if (body.lifecycleNotificationUrl === undefined && Date.parse(expiry) - Date.now() > 60 * 60_000) {
      return graphError(400, "InvalidRequest", "lifecycleNotificationUrl is required when expirationDateTime is more than 1 hour away.");
    }
    return null;
  }

  private checkExpiry(value: unknown): string | GraphAnswer {
    const at = typeof value === "string" ? Date.parse(value) : NaN;
    if (Number.isNaN(at)) return graphError(400, "InvalidRequest", "expirationDateTime is required and must be an ISO 8601 time.");
    if (at <= Date.now()) return graphError(400, "InvalidRequest", "Subscription expiration must be in the future.");
    if (at > Date.now() + MAX_MINUTES * 60_000 + 60_000) {
      return graphError(400, "InvalidRequest", `Subscription expiration can only be ${MAX_MINUTES} minutes in the future.`);
    }
    return new Date(at).toISOString();
  }

  private async validate(url: string): Promise<boolean> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = new URL(url);
    target.searchParams.set("validationToken", token);
    const started = performance.now();
    try {
      const res = await fetch(target, {
        method: "POST",
        headers: { "Content-Type": "text/plain; charset=utf-8" },
        signal: AbortSignal.timeout(this.validationTimeoutMs),
      });
      const text = await res.text();
      const ok = res.status === 200 && (res.headers.get("content-type") ?? "").startsWith("text/plain") && text === token;
      this.deliveries.push({ url: target.toString(), status: res.status, ms: performance.now() - started, ...(ok ? {} : { error: "bad validation answer" }) });
      return ok;
    } catch (err) {
      this.deliveries.push({ url: target.toString(), status: 0, ms: performance.now() - started, error: (err as Error).message });
      return false;
    }
  }

  private async post(url: string, body: unknown): Promise<Delivery> {
    const started = performance.now();
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json; charset=utf-8" },
        body: JSON.stringify(body),
        // Graph gives up on an endpoint that takes longer than 3 seconds.
        signal: AbortSignal.timeout(3_000),
      });
      await res.arrayBuffer();
      const delivery = { url, status: res.status, ms: performance.now() - started };
      this.deliveries.push(delivery);
      return delivery;
    } catch (err) {
      const delivery = { url, status: 0, ms: performance.now() - started, error: (err as Error).message };
      this.deliveries.push(delivery);
      return delivery;
    }
  }

  private view(sub: FakeSubscription, applicationId: string) {
    return {
      "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
      id: sub.id,
      resource: sub.resource,
      applicationId,
      changeType: sub.changeType,
      clientState: sub.clientState,
      notificationUrl: sub.notificationUrl,
      notificationQueryOptions: null,
      lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
      expirationDateTime: sub.expirationDateTime,
      creatorId: randomUUID(),
      includeResourceData: false,
      latestSupportedTlsVersion: "v1_2",
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationUrlAppId: null,
    };
  }
}
