// The transactional outbox: an event is written in the same transaction as the change it
// describes, and fanned out at once to one delivery per matching endpoint (unique on both).
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { events, webhookDeliveries } from "../db/schema.ts";
import type { PendingWrites } from "../db/pending-writes.ts";

export type NewEvent = { type: string; companyId: string | null; data: unknown; at: Date };

// 16 random bytes an id, cut from a pool: one randomBytes call (a system call) for 256 ids, not
// one for each event of every ticket.
let pool = Buffer.alloc(0);
let used = 0;
export const newEventId = () => {
  if (used + 16 > pool.length) {
    pool = randomBytes(16 * 256);
    used = 0;
  }
  used += 16;
  return "evt_" + pool.toString("base64url", used - 16, used);
};

/** Returns the event id (the webhook-id). The caller wakes the "deliveries" channel after commit. */
export async function recordEvent(executor: Executor, event: NewEvent): Promise<string> {
  const id = newEventId();
  const payload = JSON.stringify({ type: event.type, timestamp: event.at.toISOString(), data: event.data });
  const at = event.at.toISOString();
  // One statement: the event and its fan-out, on the hot path of every ticket.
  await executor.execute(sql`
    with ev as (
      insert into events (id, type, company_id, payload, created_at)
      values (${id}, ${event.type}, ${event.companyId}::uuid, ${payload}::jsonb, ${at}::timestamptz)
      returning id
    )
    insert into webhook_deliveries (event_id, endpoint_id, next_attempt_at)
    select ev.id, e.id, ${at}::timestamptz
      from ev, webhook_endpoints e
     where e.enabled
       and (e.events is null or ${event.type} = any(e.events))
       and (e.company_id is null or e.company_id = ${event.companyId}::uuid)
    on conflict do nothing`);
  return id;
}

/** Stages an event (and its fan-out) for the pipeline batch's write; returns its id. */
export function stageEvent(writes: PendingWrites, event: NewEvent): string {
  const id = newEventId();
  writes.events.push({ id, type: event.type, companyId: event.companyId, payload: { type: event.type, timestamp: event.at.toISOString(), data: event.data }, at: event.at });
  return id;
}

/** An event for one endpoint only (the `webhook.test` event). Returns the event and delivery ids. */
export async function recordEventForEndpoint(
  executor: Executor,
  event: NewEvent,
  endpointId: string,
): Promise<{ eventId: string; deliveryId: string }> {
  const id = newEventId();
  const payload = { type: event.type, timestamp: event.at.toISOString(), data: event.data };
  await executor.insert(events).values({ id, type: event.type, companyId: event.companyId, payload, createdAt: event.at });
  const [delivery] = await executor
    .insert(webhookDeliveries)
    .values({ eventId: id, endpointId, nextAttemptAt: event.at })
    .returning({ id: webhookDeliveries.id });
  return { eventId: id, deliveryId: delivery!.id };
}
