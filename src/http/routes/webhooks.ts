// Webhook endpoints (API.md "Webhooks out"): the secret is shown at creation and rotation only.
import { Router } from "express";
import { and, desc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { AppError, notFound, validationError } from "../../errors.ts";
import { companies, webhookAttempts, webhookDeliveries, webhookEndpoints, events } from "../../db/schema.ts";
import { endpointView, getEndpoint } from "../../db/webhook-endpoints.ts";
import { redeliver } from "../../db/webhook-deliveries.ts";
import { recordEventForEndpoint } from "../../delivery/record-event.ts";
import { generateWebhookSecret } from "../../delivery/sign-webhook.ts";
import { checkWebhookUrl } from "../../delivery/url-safety.ts";
import { EVENT_TYPES } from "../../delivery/event-types.ts";
import { pageOrder, pageWhere, parsePage, toPage } from "../pagination.ts";
import { parseId } from "../params.ts";
import { parseWith } from "../validate.ts";

const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;
const SUBSCRIBABLE = EVENT_TYPES.filter((t) => t !== "webhook.test");

const eventsField = z
  .array(z.enum(SUBSCRIBABLE as [string, ...string[]], { message: `expected event types among: ${SUBSCRIBABLE.join(", ")}` }))
  .min(1, "give at least one event type, or leave events out for all of them")
  .nullable();

const createBody = z
  .object({
    url: z.string().min(1).max(2000),
    events: eventsField.optional(),
    description: z.string().max(500).nullable().optional(),
    companyId: z.uuid().nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
const patchBody = createBody.partial().strict();
const deliveriesQuery = z.object({ status: z.enum(["pending", "succeeded", "exhausted"]).optional() }).loose();

export function webhookRoutes(ctx: Context): Router {
  const router = Router();
  endpointCrudRoutes(router, ctx);
  endpointActionRoutes(router, ctx);
  deliveryRoutes(router, ctx);
  return router;
}

async function checkUrl(ctx: Context, url: string): Promise<void> {
  const cfg = ctx.config.webhook;
  const check = await checkWebhookUrl(url, { allowHttp: cfg.allowHttp, allowPrivateNetworks: cfg.allowPrivateNetworks, lookup: ctx.resolve });
  if (!check.ok) throw validationError([{ field: "url", message: check.message }], `The webhook URL is not allowed: ${check.message}`);
}

async function checkCompany(ctx: Context, companyId: string | null | undefined): Promise<void> {
  if (!companyId) return;
  const [c] = await ctx.db.select({ id: companies.id }).from(companies).where(eq(companies.id, companyId));
  if (!c) throw validationError([{ field: "companyId", message: `no company ${companyId}` }]);
}

async function loadEndpoint(ctx: Context, raw: string | string[] | undefined) {
  const id = parseId(raw, "Webhook endpoint");
  const row = await getEndpoint(ctx.db, id);
  if (!row) throw notFound("Webhook endpoint", id);
  return row;
}

function endpointCrudRoutes(router: Router, ctx: Context): void {
  router.post("/webhooks", async (req, res) => {
    const body = parseWith(createBody, req.body);
    await checkUrl(ctx, body.url);
    await checkCompany(ctx, body.companyId);
    const secret = generateWebhookSecret();
    const [row] = await ctx.db
      .insert(webhookEndpoints)
      .values({
        url: body.url,
        events: body.events ?? null,
        description: body.description ?? null,
        companyId: body.companyId ?? null,
        enabled: body.enabled ?? true,
        secret: ctx.secrets.seal(secret),
      })
      .returning();
    res.status(201).json({ ...endpointView(row!), secret });
  });

  router.get("/webhooks", async (req, res) => {
    const page = parsePage(req.query);
    const rows = await ctx.db
      .select()
      .from(webhookEndpoints)
      .where(pageWhere(page, webhookEndpoints.createdAt, webhookEndpoints.id))
      .orderBy(...pageOrder(webhookEndpoints.createdAt, webhookEndpoints.id))
      .limit(page.limit + 1);
    res.json(toPage(rows, page, endpointView));
  });

  router.get("/webhooks/:id", async (req, res) => {
    res.json(endpointView(await loadEndpoint(ctx, req.params.id)));
  });

  router.patch("/webhooks/:id", async (req, res) => {
    const row = await loadEndpoint(ctx, req.params.id);
    const body = parseWith(patchBody, req.body);
    if (body.url !== undefined) await checkUrl(ctx, body.url);
    await checkCompany(ctx, body.companyId);
    const reenabled = body.enabled === true && !row.enabled;
    const [updated] = await ctx.db
      .update(webhookEndpoints)
      .set({
        ...(body.url !== undefined && { url: body.url }),
        ...(body.events !== undefined && { events: body.events }),
        ...(body.description !== undefined && { description: body.description }),
        ...(body.companyId !== undefined && { companyId: body.companyId }),
        ...(body.enabled !== undefined && { enabled: body.enabled }),
        ...(reenabled && { disabledReason: null, failingSince: null }),
        updatedAt: ctx.clock.now(),
      })
      .where(eq(webhookEndpoints.id, row.id))
      .returning();
    if (reenabled) ctx.database.wake("deliveries");
    // Deliveries a dispatcher claimed ahead carry the URL and enabled flag as the claim read them.
    if (body.url !== undefined || body.enabled !== undefined) ctx.database.wake("endpoints");
    res.json(endpointView(updated!));
  });

  router.delete("/webhooks/:id", async (req, res) => {
    const row = await loadEndpoint(ctx, req.params.id);
    await ctx.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, row.id));
    ctx.database.wake("endpoints");
    res.status(204).end();
  });
}

/** Rotating an endpoint's secret and sending it a test event. */
function endpointActionRoutes(router: Router, ctx: Context): void {
  router.post("/webhooks/:id/rotate-secret", async (req, res) => {
    const row = await loadEndpoint(ctx, req.params.id);
    const secret = generateWebhookSecret();
    const now = ctx.clock.now();
    const previousSecretExpiresAt = new Date(now.getTime() + ROTATION_OVERLAP_MS);
    await ctx.db
      .update(webhookEndpoints)
      .set({ secret: ctx.secrets.seal(secret), previousSecret: row.secret, previousSecretExpiresAt, updatedAt: now })
      .where(eq(webhookEndpoints.id, row.id));
    ctx.database.wake("endpoints");
    res.json({ id: row.id, secret, previousSecretExpiresAt: previousSecretExpiresAt.toISOString() });
  });

  router.post("/webhooks/:id/test", async (req, res) => {
    const row = await loadEndpoint(ctx, req.params.id);
    if (!row.enabled) throw new AppError("endpoint_disabled", 409, `The endpoint is disabled (${row.disabledReason ?? "by an operator"}); enable it first.`);
    const now = ctx.clock.now();
    const ids = await ctx.db.transaction((tx) =>
      recordEventForEndpoint(
        tx,
        { type: "webhook.test", companyId: null, data: { message: "This is a test event from mailgate.", endpointId: row.id }, at: now },
        row.id,
      ),
    );
    ctx.database.wake("deliveries");
    res.status(202).json(ids);
  });
}

/** An endpoint's deliveries with their attempts, and redelivery. */
function deliveryRoutes(router: Router, ctx: Context): void {
  router.get("/webhooks/:id/deliveries", async (req, res) => {
    const row = await loadEndpoint(ctx, req.params.id);
    const page = parsePage(req.query);
    const { status } = parseWith(deliveriesQuery, req.query, "query");
    const rows = await ctx.db
      .select({ delivery: webhookDeliveries, eventType: events.type })
      .from(webhookDeliveries)
      .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
      .where(
        and(
          eq(webhookDeliveries.endpointId, row.id),
          status ? eq(webhookDeliveries.status, status) : undefined,
          pageWhere(page, webhookDeliveries.createdAt, webhookDeliveries.id),
        ),
      )
      .orderBy(...pageOrder(webhookDeliveries.createdAt, webhookDeliveries.id))
      .limit(page.limit + 1);
    const ids = rows.map((r) => r.delivery.id);
    const attempts = ids.length
      ? await ctx.db.select().from(webhookAttempts).where(inArray(webhookAttempts.deliveryId, ids)).orderBy(desc(webhookAttempts.attemptedAt))
      : [];
    const byDelivery = new Map<string, typeof attempts>();
    for (const a of attempts) byDelivery.set(a.deliveryId, [...(byDelivery.get(a.deliveryId) ?? []), a]);
    const flat = rows.map((r) => ({ ...r.delivery, eventType: r.eventType }));
    res.json(
      toPage(flat, page, (d) => ({
        id: d.id,
        eventId: d.eventId,
        eventType: d.eventType,
        status: d.status,
        attempts: d.attempts,
        nextAttemptAt: d.status === "pending" ? d.nextAttemptAt.toISOString() : null,
        lastStatusCode: d.lastStatusCode,
        lastError: d.lastError,
        createdAt: d.createdAt.toISOString(),
        completedAt: d.completedAt?.toISOString() ?? null,
        attemptLog: (byDelivery.get(d.id) ?? []).map((a) => ({
          at: a.attemptedAt.toISOString(),
          statusCode: a.statusCode,
          durationMs: a.durationMs,
          responseBody: a.responseBody,
          error: a.error,
        })),
      })),
    );
  });

  router.post("/webhook-deliveries/:id/redeliver", async (req, res) => {
    const id = parseId(req.params.id, "Webhook delivery");
    if (!(await redeliver(ctx.db, id, ctx.clock.now()))) throw notFound("Webhook delivery", id);
    ctx.database.wake("deliveries");
    res.status(202).json({ id, status: "pending" });
  });
}
