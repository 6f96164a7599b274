// What /push/graph and /push/graph/lifecycle do with a notification collection once parsed:
// check each clientState against its subscription (constant time), then record the work it
// implies as durable requests. Only then does the route answer 202. Forged or stale
// notifications are ignored, logged as security events, and kept in the error log.
import { and, eq, inArray } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { pushSubscriptions } from "../../db/schema.ts";
import { clientStateMatches } from "./client-state.ts";
import { isLifecycleEvent, messageIdOf, type ChangeNotification, type LifecycleNotification } from "./graph-notifications.ts";
import { GRAPH_LIFECYCLE, requestCatchUp, requestNotifiedFetches, requestRerunnable } from "./graph-work-queue.ts";
import { recordError } from "../../db/error-log.ts";

export type Accepted = { accepted: number; rejected: number };

type Verified<T> = { notification: T; sourceId: string };

export async function acceptChangeNotifications(ctx: Context, notifications: ChangeNotification[], from: string): Promise<Accepted> {
  const { verified, rejected } = await verify(ctx, notifications, from);
  const fetches = new Map<string, { sourceId: string; messageId: string }>();
  for (const { notification, sourceId } of verified) {
    const messageId = notification.changeType.split(",").includes("created") ? messageIdOf(notification) : null;
    if (messageId) fetches.set(`${sourceId}:${messageId}`, { sourceId, messageId });
  }
  if (fetches.size > 0) {
    await requestNotifiedFetches(ctx.db, [...fetches.values()], ctx.clock.now());
    ctx.database.wake("graph_sync");
  }
  return { accepted: verified.length, rejected };
}

export async function acceptLifecycleNotifications(ctx: Context, notifications: LifecycleNotification[], from: string): Promise<Accepted> {
  const { verified, rejected } = await verify(ctx, notifications, from);
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    for (const { notification: n, sourceId } of verified) {
      if (!isLifecycleEvent(n.lifecycleEvent)) {
        ctx.log.warn({ sourceId, lifecycleEvent: n.lifecycleEvent }, "unknown Graph lifecycle event; catching up to be safe");
        await requestCatchUp(tx, sourceId, `lifecycle:${n.lifecycleEvent}`, now);
        continue;
      }
      if (n.lifecycleEvent === "missed") {
        await requestCatchUp(tx, sourceId, "missed", now);
        continue;
      }
      await requestRerunnable(tx, {
        sourceId,
        kind: GRAPH_LIFECYCLE,
        key: `${n.lifecycleEvent}:${n.subscriptionId}`,
        payload: { event: n.lifecycleEvent, externalId: n.subscriptionId },
        now,
      });
    }
  });
  if (verified.length > 0) ctx.database.wake("graph_sync");
  return { accepted: verified.length, rejected };
}

async function verify<T extends { subscriptionId: string; clientState?: string | null }>(
  ctx: Context,
  notifications: T[],
  from: string,
): Promise<{ verified: Verified<T>[]; rejected: number }> {
  const ids = [...new Set(notifications.map((n) => n.subscriptionId))];
  const rows =
    ids.length === 0
      ? []
      : await ctx.db
          .select({ externalId: pushSubscriptions.externalId, sourceId: pushSubscriptions.sourceId, clientState: pushSubscriptions.clientState })
          .from(pushSubscriptions)
          .where(and(eq(pushSubscriptions.provider, "graph"), inArray(pushSubscriptions.externalId, ids)));
  const expected = new Map(rows.map((r) => [r.externalId, { sourceId: r.sourceId, clientState: r.clientState ? ctx.secrets.open(r.clientState) : null }]));
  const verified: Verified<T>[] = [];
  const problems: Array<{ subscriptionId: string; reason: string }> = [];
  for (const n of notifications) {
    const sub = expected.get(n.subscriptionId);
    if (!sub || sub.clientState === null) problems.push({ subscriptionId: n.subscriptionId, reason: "unknown_subscription" });
    else if (!clientStateMatches(sub.clientState, n.clientState)) problems.push({ subscriptionId: n.subscriptionId, reason: "client_state_mismatch" });
    else verified.push({ notification: n, sourceId: sub.sourceId });
  }
  if (problems.length > 0) await logRejected(ctx, problems, from);
  return { verified, rejected: problems.length };
}

async function logRejected(ctx: Context, problems: Array<{ subscriptionId: string; reason: string }>, from: string) {
  const mismatch = problems.some((p) => p.reason === "client_state_mismatch");
  ctx.log.warn({ securityEvent: "graph_notification_rejected", from, problems }, "ignored Graph notifications that failed the clientState check");
  // A wrong clientState on a known subscription is someone forging notifications: it goes to the error log.
  // Unknown subscriptions are usually ones we replaced, still draining at Graph: the log line is enough.
  if (!mismatch) return;
  const [sourceRow] = await ctx.db
    .select({ sourceId: pushSubscriptions.sourceId })
    .from(pushSubscriptions)
    .where(and(eq(pushSubscriptions.provider, "graph"), eq(pushSubscriptions.externalId, problems.find((p) => p.reason === "client_state_mismatch")!.subscriptionId)));
  await recordError(ctx.db, {
    at: ctx.clock.now(),
    sourceId: sourceRow?.sourceId ?? null,
    kind: "security",
    message: `Ignored ${problems.length} Graph notification(s) whose clientState did not match their subscription (from ${from}): possibly forged.`,
    details: { problems: problems.slice(0, 20), from },
  });
}
