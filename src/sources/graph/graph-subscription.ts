// A source's Graph subscription on its Inbox. Creating one makes Graph call our push endpoints
// with a validation token first (routes.ts answers it); renewing is a PATCH of the expiry; one
// that expired, or that Graph removed or no longer knows, is created anew in place of the old row,
// followed by a catch-up for the mail of the gap.
import { and, eq } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { pushSubscriptions } from "../../db/schema.ts";
import type { RenewResult, SubscriptionRow } from "../gmail/renew.ts";
import { hasExpired } from "../renewal-due.ts";
import { pushEndpointProblem } from "./graph-endpoints.ts";
import type { GraphFailure } from "./graph-failure.ts";
import { requestCatchUp } from "./graph-work-queue.ts";
import { openGraphSession, requestTimeout, type GraphSession } from "./graph-session.ts";
import { newClientState, subscriptionExpiry, subscriptionRequest } from "./subscription-request.ts";

type GraphSubscriptionBody = { id: string; expirationDateTime: string; resource?: string };

/** Renews the subscription of `row`, or creates a new one where renewing cannot work. */
export async function renewGraphSubscription(ctx: Context, row: SubscriptionRow): Promise<RenewResult> {
  const session = openGraphSession(ctx, row.sourceId);
  const now = ctx.clock.now();
  if (row.status === "removed" || hasExpired(row, now)) return createGraphSubscription(ctx, row.sourceId, session);
  try {
    const body = (await session.client
      .api(`/subscriptions/${encodeURIComponent(row.externalId)}`)
      .option("signal", requestTimeout())
      .patch({ expirationDateTime: subscriptionExpiry(now, ctx.config.microsoft.subscriptionMinutes).toISOString() })) as GraphSubscriptionBody;
    const expiresAt = new Date(body.expirationDateTime);
    await ctx.db.update(pushSubscriptions).set({ expiresAt, lastRenewedAt: now }).where(eq(pushSubscriptions.id, row.id));
    return { ok: true, expiresAt };
  } catch (err) {
    const failure = session.failureOf(err);
    if (failure.kind === "not_found") return createGraphSubscription(ctx, row.sourceId, session);
    return { ok: false, error: renewalError(failure, "Renewing") };
  }
}

/** Creates the source's subscription (replacing its old row), then asks for a catch-up. */
export async function createGraphSubscription(
  ctx: Context,
  sourceId: string,
  session: GraphSession = openGraphSession(ctx, sourceId),
): Promise<RenewResult & { rowId?: string }> {
  const problem = pushEndpointProblem(ctx.config.publicUrl);
  if (problem) return { ok: false, error: { code: "public_url_not_https", message: problem } };
  const clientState = newClientState();
  const request = subscriptionRequest({
    publicUrl: ctx.config.publicUrl,
    clientState,
    now: ctx.clock.now(),
    minutes: ctx.config.microsoft.subscriptionMinutes,
  });
  let body: GraphSubscriptionBody;
  try {
    body = (await session.client.api("/subscriptions").option("signal", requestTimeout()).post(request)) as GraphSubscriptionBody;
  } catch (err) {
    return { ok: false, error: renewalError(session.failureOf(err), "Creating") };
  }
  // Graph may grant less than was asked for: its answer is the truth.
  const expiresAt = new Date(body.expirationDateTime);
  const now = ctx.clock.now();
  const rowId = await ctx.db.transaction(async (tx) => {
    const fields = {
      externalId: body.id,
      resource: body.resource ?? request.resource,
      clientState: ctx.secrets.seal(clientState),
      expiresAt,
      lastRenewedAt: now,
      status: "active" as const,
      lastError: null,
    };
    const [existing] = await tx
      .select({ id: pushSubscriptions.id })
      .from(pushSubscriptions)
      .where(and(eq(pushSubscriptions.sourceId, sourceId), eq(pushSubscriptions.provider, "graph")))
      .limit(1);
    let id: string;
    if (existing) {
      await tx.update(pushSubscriptions).set(fields).where(eq(pushSubscriptions.id, existing.id));
      id = existing.id;
    } else {
      const [inserted] = await tx
        .insert(pushSubscriptions)
        .values({ sourceId, provider: "graph", ...fields, createdAt: now })
        .returning({ id: pushSubscriptions.id });
      id = inserted!.id;
    }
    // Mail that arrived while there was no subscription (or before this row was stored) is caught up.
    await requestCatchUp(tx, sourceId, "subscription_created", now);
    return id;
  });
  ctx.database.wake("graph_sync");
  return { ok: true, expiresAt, rowId };
}

/** Deletes the subscription at Graph (a source switched to manual mode), then its row. */
export async function deleteGraphSubscription(ctx: Context, row: SubscriptionRow): Promise<void> {
  const session = openGraphSession(ctx, row.sourceId);
  try {
    await session.client.api(`/subscriptions/${encodeURIComponent(row.externalId)}`).option("signal", requestTimeout()).delete();
  } catch (err) {
    const failure = session.failureOf(err);
    if (failure.kind !== "not_found") throw err;
  }
  await ctx.db.delete(pushSubscriptions).where(eq(pushSubscriptions.id, row.id));
}

function renewalError(failure: GraphFailure, verb: "Creating" | "Renewing"): { code: string; message: string } {
  const what = `${verb} the Microsoft Graph subscription failed`;
  switch (failure.kind) {
    case "reauth":
      return { code: "needs_reauth", message: `${what}: ${failure.message}` };
    case "throttled":
      return { code: "throttled", message: `${what}: Microsoft is throttling requests (${failure.message}); it is retried.` };
    case "transient":
      return { code: "unavailable", message: `${what}: Microsoft Graph could not be reached (${failure.message}); it is retried.` };
    case "not_found":
      return { code: "not_found", message: `${what}: ${failure.message}` };
    case "sync_state_lost":
      return { code: "unexpected", message: `${what}: ${failure.message}` };
    case "rejected":
      return {
        code: failure.code,
        message:
          verb === "Creating" && failure.status === 400
            ? `${what}: ${failure.message}. Check that PUBLIC_URL is reachable over https from Microsoft and answers POST /push/graph and /push/graph/lifecycle.`
            : `${what}: ${failure.message}`,
      };
  }
}
