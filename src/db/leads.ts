import type { Executor } from "./client.ts";
import { leads } from "./schema.ts";

export type Lead = { id: string; email: string; name: string | null; domain: string; subject: string; createdAt: Date };

export async function insertLead(
  executor: Executor,
  l: { email: string; name: string; domain: string; subject: string; inboundMessageId: string; at: Date },
): Promise<Lead> {
  const [row] = await executor
    .insert(leads)
    .values({ email: l.email, name: l.name || null, domain: l.domain, subject: l.subject, inboundMessageId: l.inboundMessageId, createdAt: l.at })
    .returning({ id: leads.id, email: leads.email, name: leads.name, domain: leads.domain, subject: leads.subject, createdAt: leads.createdAt });
  if (!row) throw new Error("lead insert returned nothing");
  return row;
}
