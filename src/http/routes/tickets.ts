// Tickets, read side: lists with filters and search, one ticket with its messages and attachments,
// and the webhook deliveries of one ticket's events.
import { Router } from "express";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { notFound, validationError } from "../../errors.ts";
import { TICKET_STATUSES, findTicketDetail, listTickets, ticketExists } from "../../db/tickets.ts";
import { listTicketDeliveries } from "../../db/ticket-deliveries.ts";
import { isoTime } from "../iso-time.ts";
import { parsePage, toPage } from "../pagination.ts";
import { parseId } from "../params.ts";
import { parseListQuery } from "../list-query.ts";

// Unknown query parameters are rejected too: a misspelt filter must not quietly list everything.
const ticketQuery = z
  .object({
    companyId: z.uuid("expected a company id").optional(),
    sourceId: z.uuid("expected a mail source id").optional(),
    status: z.enum(TICKET_STATUSES, `expected one of ${TICKET_STATUSES.join(", ")}`).optional(),
    unmapped: z.enum(["true", "false"], "expected true or false").transform((v) => v === "true").optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
    q: z.string().trim().min(1, "expected some text to search for").max(200, "expected at most 200 characters").optional(),
    limit: z.unknown().optional(),
    cursor: z.unknown().optional(),
  })
  .strict();

const deliveriesQuery = z.object({ limit: z.unknown().optional(), cursor: z.unknown().optional() }).strict();

export function ticketRoutes(ctx: Context): Router {
  const router = Router();

  router.get("/tickets", async (req, res) => {
    const { limit: _limit, cursor: _cursor, ...filter } = parseListQuery(ticketQuery, req.query);
    if (filter.from && filter.to && filter.from >= filter.to) throw validationError([{ field: "to", message: "must be later than from" }]);
    const page = parsePage(req.query);
    const rows = await listTickets(ctx.db, filter, page);
    res.json(toPage(rows, page, (row) => row));
  });

  router.get("/tickets/:id", async (req, res) => {
    const id = parseId(req.params.id, "Ticket");
    const ticket = await findTicketDetail(ctx.db, id);
    if (!ticket) throw notFound("Ticket", id);
    res.json(ticket);
  });

  router.get("/tickets/:id/deliveries", async (req, res) => {
    const id = parseId(req.params.id, "Ticket");
    parseListQuery(deliveriesQuery, req.query);
    const page = parsePage(req.query);
    if (!(await ticketExists(ctx.db, id))) throw notFound("Ticket", id);
    const rows = await listTicketDeliveries(ctx.db, id, page);
    res.json(toPage(rows, page, ({ nextAttemptAt, ...d }) => ({ ...d, nextAttemptAt: d.status === "pending" ? nextAttemptAt : null })));
  });

  return router;
}
