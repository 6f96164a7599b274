// Tickets, read side: lists with filters, and one ticket with its messages and attachments.
import { Router } from "express";
import { z } from "zod";
import type { Context } from "../../context.ts";
import { notFound } from "../../errors.ts";
import { TICKET_STATUSES, findTicketDetail, listTickets } from "../../db/tickets.ts";
import { parsePage, toPage } from "../pagination.ts";
import { parseId } from "../params.ts";
import { parseListQuery } from "../list-query.ts";

// Unknown query parameters are rejected too: a misspelt filter must not quietly list everything.
const ticketQuery = z
  .object({
    companyId: z.uuid("expected a company id").optional(),
    status: z.enum(TICKET_STATUSES).optional(),
    unmapped: z.enum(["true", "false"], "expected true or false").transform((v) => v === "true").optional(),
    limit: z.unknown().optional(),
    cursor: z.unknown().optional(),
  })
  .strict();

export function ticketRoutes(ctx: Context): Router {
  const router = Router();

  router.get("/tickets", async (req, res) => {
    const { companyId, status, unmapped } = parseListQuery(ticketQuery, req.query);
    const page = parsePage(req.query);
    const rows = await listTickets(ctx.db, { companyId, status, unmapped }, page);
    res.json(toPage(rows, page, (row) => row));
  });

  router.get("/tickets/:id", async (req, res) => {
    const id = parseId(req.params.id, "Ticket");
    const ticket = await findTicketDetail(ctx.db, id);
    if (!ticket) throw notFound("Ticket", id);
    res.json(ticket);
  });

  return router;
}
