// Push subscriptions (API.md "Subscriptions"): every Gmail watch and Graph subscription with its
// expiry, and renewal on demand. A Graph subscription that expired or was removed is re-created.
import { Router } from "express";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { notFound } from "../../errors.ts";
import { findSource } from "../../db/sources.ts";
import type { SubscriptionRow } from "../../sources/gmail/renew.ts";
import { listSubscriptions, renewSubscription } from "../../sources/renew-subscriptions.ts";
import { parseWith } from "../validate.ts";

const query = z.object({ sourceId: z.uuid("expected a mail source id").optional() }).strict();

export function subscriptionRoutes(ctx: Context): Router {
  const router = Router();

  const selected = async (rawQuery: unknown) => {
    const { sourceId } = parseWith(query, rawQuery, "query");
    if (sourceId && !(await findSource(ctx.db, sourceId))) throw notFound("Mail source", sourceId);
    return listSubscriptions(ctx.db, { sourceId });
  };

  router.get("/subscriptions", async (req, res) => {
    const rows = await selected(req.query);
    res.json({ items: rows.map(subscriptionView), nextCursor: null });
  });

  router.post("/subscriptions/renew", async (req, res) => {
    const rows = await selected(req.query);
    const results = [];
    // One at a time: each renewal is a provider call, and a burst would only invite throttling.
    for (const row of rows) results.push(await renewSubscription(ctx, row));
    res.json({ results });
  });

  return router;
}

function subscriptionView(row: SubscriptionRow) {
  return {
    id: row.id,
    sourceId: row.sourceId,
    provider: row.provider,
    externalId: row.externalId,
    resource: row.resource,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastRenewedAt: row.lastRenewedAt?.toISOString() ?? null,
    status: row.status,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
  };
}
