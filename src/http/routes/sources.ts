// Mail sources: the mailboxes mailgate reads (IMAP, Gmail, Microsoft 365) and the raw-MIME API.
// Secrets are sealed on the way in and never leave again; responses carry `hasX` flags instead.
import { Router } from "express";
import type { Context } from "../../context.ts";
import { notFound, unprocessable, validationError } from "../../errors.ts";
import { companyExists, deleteSource, findSource, insertSource, listSources, requestSync, subscriptionsBySource, updateSource, type SourceRecord } from "../../db/sources.ts";
import { countMessagesBySource, emptyMessageCounts } from "../../db/inbound-messages.ts";
import { initialSourceStatus, planSourcePatch } from "../../sources/plan-source-patch.ts";
import type { SourceKind } from "../../sources/source-config.ts";
import { createSourceInput, patchSourceInput, storedBlockOf, type PatchSourceInput, type SourceRole } from "../../sources/source-input.ts";
import { toSourceView, type OpenedSecrets } from "../../sources/source-view.ts";
import { testConnection } from "../../sources/test-connection.ts";
import { releasePushSubscriptions } from "../../sources/release-push.ts";
import { releaseHeldMessages } from "../../db/inbound-claims.ts";
import { keepSmtpStatuses } from "../../sources/smtp/listener-presence.ts";
import { authorizeGmail } from "../../sources/gmail/authorize.ts";
import { authorizeGraph } from "../../sources/graph/authorize.ts";
import { parsePage, toPage } from "../pagination.ts";
import { parseId } from "../params.ts";
import { parseWith } from "../validate.ts";

export function sourceRoutes(ctx: Context): Router {
  const router = Router();
  sourceCrudRoutes(router, ctx);
  sourceActionRoutes(router, ctx);
  return router;
}

function openSecrets(ctx: Context, row: SourceRecord): OpenedSecrets {
  if (!row.secrets) return {};
  try {
    return ctx.secrets.openJson<OpenedSecrets>(row.secrets);
  } catch (err) {
    // A source whose secrets cannot be opened is still listed; its flags say the secrets are missing.
    ctx.log.warn({ err, sourceId: row.id }, "cannot open the secrets of a mail source");
    return {};
  }
}

async function sourceView(ctx: Context, row: SourceRecord) {
  const [counts, subscriptions] = await Promise.all([countMessagesBySource(ctx.db, [row.id]), subscriptionsBySource(ctx.db, [row.id])]);
  return toSourceView(row, openSecrets(ctx, row), counts.get(row.id) ?? emptyMessageCounts(), subscriptions.get(row.id) ?? null);
}

async function loadSource(ctx: Context, rawId: string | string[] | undefined): Promise<SourceRecord> {
  const id = parseId(rawId, "Mail source");
  const row = await findSource(ctx.db, id);
  if (!row) throw notFound("Mail source", id);
  return row;
}

async function requireCompany(ctx: Context, companyId: string | null): Promise<void> {
  if (companyId && !(await companyExists(ctx.db, companyId))) {
    throw validationError([{ field: "companyId", message: `no company ${companyId}; create it with POST /api/companies first` }]);
  }
}

function sourceCrudRoutes(router: Router, ctx: Context): void {
  router.post("/sources", async (req, res) => {
    const input = parseWith(createSourceInput, req.body);
    const companyId = input.role === "company" ? (input.companyId ?? null) : null;
    await requireCompany(ctx, companyId);
    const stored = storedBlockOf(input);
    const row = await insertSource(ctx.db, {
      kind: input.kind,
      name: input.name,
      address: input.address,
      role: input.role,
      companyId,
      schedule: input.schedule,
      acknowledgement: input.acknowledgement ?? null,
      config: stored.config,
      secrets: stored.secrets ? ctx.secrets.sealJson(stored.secrets) : null,
      status: initialSourceStatus(input.kind),
      at: ctx.clock.now(),
    });
    ctx.database.wake("sources");
    res.status(201).json(await sourceView(ctx, await withSmtpStatus(ctx, row)));
  });

  router.get("/sources", async (req, res) => {
    const page = parsePage(req.query);
    const rows = await listSources(ctx.db, page);
    const ids = rows.map((r) => r.id);
    const [counts, subscriptions] = await Promise.all([countMessagesBySource(ctx.db, ids), subscriptionsBySource(ctx.db, ids)]);
    res.json(
      toPage(rows, page, (row) =>
        toSourceView(row, openSecrets(ctx, row), counts.get(row.id) ?? emptyMessageCounts(), subscriptions.get(row.id) ?? null),
      ),
    );
  });

  router.get("/sources/:id", async (req, res) => {
    res.json(await sourceView(ctx, await loadSource(ctx, req.params.id)));
  });

  router.patch("/sources/:id", async (req, res) => {
    const patch = parseWith(patchSourceInput, req.body);
    const existing = await loadSource(ctx, req.params.id);
    res.json(await sourceView(ctx, await applySourcePatch(ctx, existing, patch)));
  });

  router.delete("/sources/:id", async (req, res) => {
    const source = await loadSource(ctx, req.params.id);
    await releasePushSubscriptions(ctx, source);
    if (!(await deleteSource(ctx.db, source.id))) throw notFound("Mail source", source.id);
    ctx.database.wake("sources");
    res.status(204).end();
  });
}

/** Stores what the patch changes and wakes whoever must act on it; answers the updated row. */
async function applySourcePatch(ctx: Context, existing: SourceRecord, patch: PatchSourceInput): Promise<SourceRecord> {
  const secrets = openSecrets(ctx, existing);
  const plan = planSourcePatch(
    {
      kind: existing.kind as SourceKind,
      address: existing.address,
      role: existing.role as SourceRole,
      companyId: existing.companyId,
      status: existing.status,
      config: (existing.config ?? {}) as Record<string, unknown>,
      secrets,
    },
    patch,
  );
  if (plan.companyId !== existing.companyId) await requireCompany(ctx, plan.companyId);
  const { secrets: newSecrets, clearError, ...changes } = plan;
  const row = await updateSource(
    ctx.db,
    existing.id,
    {
      ...changes,
      // An api source whose SMTP block was removed has no secrets left.
      ...(newSecrets ? { secrets: Object.keys(newSecrets).length > 0 ? ctx.secrets.sealJson(newSecrets) : null } : {}),
      ...(clearError ? { lastError: null, lastErrorAt: null } : {}),
    },
    ctx.clock.now(),
  );
  if (!row) throw notFound("Mail source", existing.id);
  // A new schedule applies to mail already waiting, without a restart.
  if (patch.schedule !== undefined) {
    await releaseHeldMessages(ctx.db, existing.id, ctx.clock.now());
    ctx.database.wake("inbound");
  }
  // The source's owner reloads its settings when woken.
  ctx.database.wake("sources");
  return plan.status === undefined ? row : withSmtpStatus(ctx, row);
}

/** An smtp source that just started (or restarted) as connecting answers whether a listener serves it. */
async function withSmtpStatus(ctx: Context, row: SourceRecord): Promise<SourceRecord> {
  if (row.kind !== "smtp" || row.status !== "connecting") return row;
  await keepSmtpStatuses(ctx, row.id);
  return (await findSource(ctx.db, row.id)) ?? row;
}

/** Testing the connection, Process Now and OAuth authorization. */
function sourceActionRoutes(router: Router, ctx: Context): void {
  router.post("/sources/:id/test", async (req, res) => {
    res.json(await testConnection(ctx, await loadSource(ctx, req.params.id)));
  });

  router.post("/sources/:id/process", async (req, res) => {
    const id = parseId(req.params.id, "Mail source");
    if (!(await requestSync(ctx.db, id, ctx.clock.now()))) throw notFound("Mail source", id);
    ctx.database.wake("sources");
    res.status(202).json({ accepted: true });
  });

  router.post("/sources/:id/authorize", async (req, res) => {
    const source = await loadSource(ctx, req.params.id);
    if (source.kind === "gmail") return void res.json(await authorizeGmail(ctx, source));
    if (source.kind === "graph") return void res.json(await authorizeGraph(ctx, source));
    throw unprocessable(
      "not_oauth",
      `Only Gmail and Microsoft 365 sources authorize with OAuth; a ${source.kind} source needs no authorization${
        source.kind === "imap" ? " (it signs in with its user and password)" : ""
      }.`,
      { kind: source.kind },
    );
  });
}
