// The dedupe claim on the Message-ID and everything the routing steps read, in ONE statement: the ticket rules, the default company,
// company mailboxes among the recipients, domain mappings of the sender's domains, tickets named
// in the subject, tickets of the referenced Message-IDs, the default job type's priority, the
// active techs, and whether a referenced mail is still waiting to be processed. The pipeline's decisions then run on these plain values.
import { sql } from "drizzle-orm";
import { pgArray, queryRows, type Executor } from "./client.js";
import type { FactsClaim } from "./message-ids.js";
import { mergeTicketRules } from "../settings/merge-ticket-rules.js";
import { DEFAULT_TICKET_RULES, type Priority, type TicketRules } from "../settings/ticket-rules.js";

export type ThreadCandidateRow = {
  number: number;
  ticketId: string;
  contactEmail: string | null;
  participants: string[];
  companyDomains: string[];
};

export type RoutingFacts = {
  rules: TicketRules;
  /** The company flagged isDefault, if any. */
  flaggedDefaultCompanyId: string | null;
  /** Company mailboxes among the recipients, by address. */
  mailboxCompanies: Map<string, string>;
  /** Mapped domains among the sender's domain candidates. */
  domainMatches: Record<string, string>;
  companyNames: Map<string, string>;
  subjectTickets: ThreadCandidateRow[];
  /** Referenced Message-ID → its ticket. */
  headerTickets: Map<string, string>;
  jobTypePriority: Priority | null;
  activeTechs: { id: string; name: string; email: string }[];
  /**
   * A referenced mail is itself still waiting in the queue and due within a minute (another worker
   * may hold it in an uncommitted transaction, or it waits for its own parent): threading now
   * would miss its ticket. One held for a processing window or a long retry is not waited for.
   */
  awaitingReferenced: boolean;
  /**
   * The dedupe claim on the Message-ID: `claimed` when this statement inserted it, else who holds
   * it, as seen when the statement began (null when a concurrent transaction inserted it since:
   * the caller then looks again).
   */
  claim: FactsClaim;
};

export type RoutingQuery = {
  recipients: string[];
  senderDomains: string[];
  ticketNumbers: number[];
  referencedIds: string[];
  sourceCompanyId: string | null;
  /** The message being processed, left out of the awaiting check, and now. */
  inboundMessageId: string;
  now: Date;
  /** Its normalised Message-ID, claimed in the same statement (the dedupe step). */
  messageId: string;
};

type Row = {
  rules: unknown;
  default_company_id: string | null;
  mailboxes: { address: string; companyId: string }[] | string;
  domains: { domain: string; companyId: string }[] | string;
  names: { id: string; name: string }[] | string;
  subject_tickets: ThreadCandidateRow[] | string;
  header_tickets: { messageId: string; ticketId: string }[] | string;
  job_type_priority: string | null;
  techs: { id: string; name: string; email: string }[] | string;
  awaiting_referenced: boolean;
  claimed: boolean;
  owner: { inboundMessageId: string | null; ticketId: string | null } | string | null;
};

const json = <T>(v: T | string): T => (typeof v === "string" ? (JSON.parse(v) as T) : v);

export async function loadRoutingFacts(executor: Executor, q: RoutingQuery): Promise<RoutingFacts> {
  const recipients = pgArray(q.recipients.slice(0, 500));
  const domains = pgArray(q.senderDomains);
  const numbers = pgArray(q.ticketNumbers.filter(Number.isSafeInteger).slice(0, 20));
  const referenced = pgArray(q.referencedIds.slice(0, 200));
  const [row] = await queryRows<Row>(
    executor,
    sql`with rules as (select value from settings where key = 'ticket_rules'),
           claim as (insert into message_ids (message_id, inbound_message_id) values (${q.messageId}, ${q.inboundMessageId}::uuid)
                     on conflict do nothing returning message_id)
      select
        exists(select 1 from claim) as claimed,
        (select json_build_object('inboundMessageId', m.inbound_message_id, 'ticketId', m.ticket_id)
           from message_ids m where m.message_id = ${q.messageId}) as owner,
        (select value from rules) as rules,
        (select id from companies where is_default limit 1) as default_company_id,
        coalesce((select json_agg(json_build_object('address', s.address, 'companyId', s.company_id))
                    from mail_sources s where s.role = 'company' and s.company_id is not null
                     and s.address = any(${recipients}::text[])), '[]'::json) as mailboxes,
        coalesce((select json_agg(json_build_object('domain', d.domain, 'companyId', d.company_id))
                    from company_domains d where d.domain = any(${domains}::text[])), '[]'::json) as domains,
        -- Each arm is an index lookup (the ids as arrays, the default by its partial index), so
        -- this reads a handful of rows however many companies there are.
        coalesce((select json_agg(json_build_object('id', c.id, 'name', c.name)) from companies c
                   where c.is_default
                      or c.id = ${q.sourceCompanyId}::uuid
                      or c.id = (select case when value->'unmappedDomains'->>'defaultCompanyId' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                                             then (value->'unmappedDomains'->>'defaultCompanyId')::uuid end from rules)
                      or c.id = any(array(select company_id from company_domains where domain = any(${domains}::text[])))
                      or c.id = any(array(select company_id from mail_sources where role = 'company' and address = any(${recipients}::text[])))),
                 '[]'::json) as names,
        coalesce((select json_agg(json_build_object(
                    'number', t.number, 'ticketId', t.id, 'contactEmail', ct.email, 'participants', t.participants,
                    'companyDomains', coalesce((select json_agg(d2.domain) from company_domains d2 where d2.company_id = t.company_id), '[]'::json)))
                    from tickets t left join contacts ct on ct.id = t.contact_id
                   where t.number = any(${numbers}::bigint[])), '[]'::json) as subject_tickets,
        coalesce((select json_agg(json_build_object('messageId', m.message_id, 'ticketId', m.ticket_id))
                    from message_ids m where m.message_id = any(${referenced}::text[]) and m.ticket_id is not null), '[]'::json) as header_tickets,
        (select j.default_priority from job_types j
          where j.name = coalesce((select value->>'defaultJobType' from rules), ${DEFAULT_TICKET_RULES.defaultJobType})) as job_type_priority,
        coalesce((select json_agg(json_build_object('id', t.id, 'name', t.name, 'email', t.email) order by t.id)
                    from techs t where t.active), '[]'::json) as techs,
        exists(select 1 from inbound_messages w
                where w.status = 'received' and w.message_id = any(${referenced}::text[])
                  and w.id <> ${q.inboundMessageId}::uuid and w.next_attempt_at <= ${q.now.toISOString()}::timestamptz + interval '1 minute') as awaiting_referenced`,
  );
  if (!row) throw new Error("routing facts query returned no row");
  return {
    rules: mergeTicketRules(typeof row.rules === "string" ? JSON.parse(row.rules) : row.rules),
    flaggedDefaultCompanyId: row.default_company_id,
    mailboxCompanies: new Map(json(row.mailboxes).map((m) => [m.address, m.companyId])),
    domainMatches: Object.fromEntries(json(row.domains).map((d) => [d.domain, d.companyId])),
    companyNames: new Map(json(row.names).map((c) => [c.id, c.name])),
    subjectTickets: json(row.subject_tickets).map((t) => ({ ...t, number: Number(t.number) })),
    headerTickets: new Map(json(row.header_tickets).map((h) => [h.messageId, h.ticketId])),
    jobTypePriority: (row.job_type_priority as Priority | null) ?? null,
    activeTechs: json(row.techs),
    awaitingReferenced: row.awaiting_referenced === true,
    claim: row.claimed ? { claimed: true } : { claimed: false, owner: row.owner === null ? null : json(row.owner) },
  };
}
