// graph_lifecycle: what Graph's lifecycle events ask of a subscription.
//   reauthorizationRequired  renew it (a PATCH of the expiry reauthorizes it)
//   subscriptionRemoved      create a new one (which asks for a catch-up of the gap)
//   missed                   is not handled here: routes.ts turns it into a catch-up directly
import { and, eq } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { pushSubscriptions } from "../../db/schema.ts";
import { renewSubscription } from "../renew-subscriptions.ts";
import { completeGraphWork, type GraphWork } from "./graph-work-queue.ts";

export async function handleLifecycleEvent(ctx: Context, work: GraphWork): Promise<void> {
  const event = String(work.payload.event ?? "");
  const externalId = String(work.payload.externalId ?? "");
  const [row] = await ctx.db
    .select()
    .from(pushSubscriptions)
    .where(and(eq(pushSubscriptions.provider, "graph"), eq(pushSubscriptions.externalId, externalId), eq(pushSubscriptions.sourceId, work.sourceId)));
  if (!row) {
    // Already replaced by a newer subscription: nothing left to do for this one.
    await completeGraphWork(ctx.db, work);
    return;
  }
  if (event === "subscriptionRemoved") {
    await ctx.db.update(pushSubscriptions).set({ status: "removed" }).where(eq(pushSubscriptions.id, row.id));
    row.status = "removed";
  }
  const outcome = await renewSubscription(ctx, row);
  if (!outcome.ok) throw new Error(outcome.error?.message ?? `Handling ${event} for subscription ${externalId} failed.`);
  await completeGraphWork(ctx.db, work);
}
