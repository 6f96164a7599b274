// The webhook deliveries of one ticket's events (ticket.created, ticket.reply_received,
// message.sent, message.failed): every event about a ticket names it at data.ticket.id, and the
// expression index events_ticket finds them without a column of its own on the outbox's hot path.
import { and, eq, sql, type SQL } from "drizzle-orm";
import type { Executor } from "./client.ts";
import { events, webhookDeliveries, webhookEndpoints } from "./schema.ts";
import { pageOrder, pageWhere, type Page } from "../http/pagination.ts";

/** The expression of the index events_ticket (schema.ts): the query must read it as it is written there. */
const eventTicketId: SQL = sql`(${events.payload} #>> '{data,ticket,id}')`;

export type TicketDelivery = {
  id: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  endpointUrl: string;
  status: string;
  attempts: number;
  nextAttemptAt: Date;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  completedAt: Date | null;
};

/** Newest first; one row more than the page holds, so the caller knows whether another page follows. */
export async function listTicketDeliveries(executor: Executor, ticketId: string, page: Page): Promise<TicketDelivery[]> {
  return ticketDeliveriesQuery(executor, ticketId, page);
}

/** The statement itself, which a test can explain. */
export function ticketDeliveriesQuery(executor: Executor, ticketId: string, page: Page) {
  return executor
    .select({
      id: webhookDeliveries.id,
      eventId: webhookDeliveries.eventId,
      eventType: events.type,
      endpointId: webhookDeliveries.endpointId,
      endpointUrl: webhookEndpoints.url,
      status: webhookDeliveries.status,
      attempts: webhookDeliveries.attempts,
      nextAttemptAt: webhookDeliveries.nextAttemptAt,
      lastStatusCode: webhookDeliveries.lastStatusCode,
      lastError: webhookDeliveries.lastError,
      createdAt: webhookDeliveries.createdAt,
      completedAt: webhookDeliveries.completedAt,
    })
    .from(events)
    .innerJoin(webhookDeliveries, eq(webhookDeliveries.eventId, events.id))
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(and(sql`${eventTicketId} = ${ticketId}`, pageWhere(page, webhookDeliveries.createdAt, webhookDeliveries.id)))
    .orderBy(...pageOrder(webhookDeliveries.createdAt, webhookDeliveries.id))
    .limit(page.limit + 1);
}
