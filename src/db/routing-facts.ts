// Everything the routing steps read, for a whole batch in ONE statement: the ticket rules, the
// default company, company mailboxes among the recipients, domain mappings of the sender's
// domains, tickets named in the subject, tickets of the referenced Message-IDs, the default job
// type's priority, the active techs, and whether a referenced mail is still waiting to be
// processed. The pipeline's decisions then run on these plain values (decide-message.ts).
import { sql } from "drizzle-orm";
import { queryRows, type Executor } from "./client.ts";
import { mergeTicketRules } from "../settings/merge-ticket-rules.ts";
import { DEFAULT_TICKET_RULES, type Priority, type TicketRules } from "../settings/ticket-rules.ts";

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
  /** Every source's address, lower case, when acknowledgements are on in the rules or in any mailbox (they are never sent to one); else empty. */
  ownAddresses: ReadonlySet<string>;
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
};

type Row = {
  /** These four are the batch's, on the first row only. */
  rules: unknown;
  default_company_id: string | null;
  job_type_priority: string | null;
  techs: { id: string; name: string; email: string }[] | string;
  own_addresses: string[] | string | null;
  mailboxes: { address: string; companyId: string }[] | string;
  domains: { domain: string; companyId: string }[] | string;
  names: { id: string; name: string }[] | string;
  subject_tickets: ThreadCandidateRow[] | string;
  header_tickets: { messageId: string; ticketId: string }[] | string;
  awaiting_referenced: boolean;
};

const json = <T>(v: T | string): T => (typeof v === "string" ? (JSON.parse(v) as T) : v);

/**
 * The facts of a batch's messages in one statement, in the order asked; what is the same for the
 * whole batch (rules, default company, techs) is computed once.
 */
export async function loadRoutingFacts(executor: Executor, queries: RoutingQuery[]): Promise<RoutingFacts[]> {
  if (queries.length === 0) return [];
  const input = JSON.stringify(
    queries.map((q, ord) => ({
      ord,
      inbound_id: q.inboundMessageId,
      recipients: q.recipients.slice(0, 500),
      domains: q.senderDomains,
      numbers: q.ticketNumbers.filter(Number.isSafeInteger).slice(0, 20),
      referenced: q.referencedIds.slice(0, 200),
      source_company_id: q.sourceCompanyId,
      due_by: new Date(q.now.getTime() + 60_000).toISOString(),
    })),
  );
  const rows = await queryRows<Row>(executor, routingFactsStatement(input));
  if (rows.length !== queries.length) throw new Error(`routing facts query returned ${rows.length} rows for ${queries.length} messages`);
  const first = rows[0]!;
  const rules = mergeTicketRules(typeof first.rules === "string" ? JSON.parse(first.rules) : first.rules);
  const activeTechs = json(first.techs);
  const jobTypePriority = (first.job_type_priority as Priority | null) ?? null;
  const ownAddresses = new Set(first.own_addresses === null ? [] : json(first.own_addresses));
  return rows.map((row) => ({
    rules,
    flaggedDefaultCompanyId: first.default_company_id,
    mailboxCompanies: new Map(json(row.mailboxes).map((m) => [m.address, m.companyId])),
    domainMatches: Object.fromEntries(json(row.domains).map((d) => [d.domain, d.companyId])),
    companyNames: new Map(json(row.names).map((c) => [c.id, c.name])),
    subjectTickets: json(row.subject_tickets).map((t) => ({ ...t, number: Number(t.number) })),
    headerTickets: new Map(json(row.header_tickets).map((h) => [h.messageId, h.ticketId])),
    jobTypePriority,
    activeTechs,
    awaitingReferenced: row.awaiting_referenced === true,
    ownAddresses,
  }));
}

/** The statement: one row per message asked (`q`), in their order. */
function routingFactsStatement(input: string) {
  return sql`with q as (select * from jsonb_to_recordset(${input}::jsonb)
                     as q(ord int, inbound_id uuid, recipients text[], domains text[], numbers bigint[],
                          referenced text[], source_company_id uuid, due_by timestamptz)),
           rules as (select value from settings where key = 'ticket_rules'),
           -- Computed once for the batch (inlined, each use of a column would compute it again).
           shared as materialized (
             select (select value from rules) as rules,
                    (select id from companies where is_default limit 1) as default_company_id,
                    (select case when value->'unmappedDomains'->>'defaultCompanyId' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                                 then (value->'unmappedDomains'->>'defaultCompanyId')::uuid end from rules) as setting_company_id,
                    (select j.default_priority from job_types j
                      where j.name = coalesce((select value->>'defaultJobType' from rules), ${DEFAULT_TICKET_RULES.defaultJobType})) as job_type_priority,
                    coalesce((select json_agg(json_build_object('id', t.id, 'name', t.name, 'email', t.email) order by t.id)
                                from techs t where t.active), '[]'::json) as techs,
                    case when (select value->'acknowledgement'->>'enabled' from rules) = 'true'
                           or exists (select 1 from mail_sources where acknowledgement->>'enabled' = 'true')
                         then coalesce((select json_agg(lower(a.address))
                                          from (select address from mail_sources
                                                union all
                                                -- An smtp source's further addresses (listener-settings.ts).
                                                select jsonb_array_elements_text(config->'addresses') from mail_sources
                                                 where kind = 'smtp' and jsonb_typeof(config->'addresses') = 'array') a), '[]'::json) end as own_addresses)
      select
        -- What is the same for every message travels once, on the first row.
        case when q.ord = 0 then shared.rules end as rules,
        case when q.ord = 0 then shared.default_company_id end as default_company_id,
        case when q.ord = 0 then shared.job_type_priority end as job_type_priority,
        case when q.ord = 0 then shared.techs end as techs,
        case when q.ord = 0 then shared.own_addresses end as own_addresses,
        coalesce((select json_agg(json_build_object('address', s.address, 'companyId', s.company_id))
                    from mail_sources s where s.role = 'company' and s.company_id is not null
                     and s.address = any(q.recipients)), '[]'::json) as mailboxes,
        -- Every lookup below probes its index once per value (a lateral join, its \`limit\` keeps
        -- the planner from flattening it into a hash join). Written with \`= any(array)\`, the
        -- statistics of a young table (a fresh install, a burst before autovacuum analyses) made
        -- the planner scan whole tables for every message: every ticket, every stored Message-ID,
        -- every waiting message (tests/integration/db/routing-facts.test.ts).
        coalesce((select json_agg(json_build_object('domain', d.domain, 'companyId', d.company_id))
                    from unnest(q.domains) x(domain)
                    cross join lateral (select d.domain, d.company_id from company_domains d where d.domain = x.domain limit 1) d), '[]'::json) as domains,
        coalesce((select json_agg(json_build_object('id', c.id, 'name', c.name))
                    from (select shared.default_company_id as id
                          union select q.source_company_id
                          union select shared.setting_company_id
                          union select d.company_id from unnest(q.domains) x(domain)
                                 cross join lateral (select company_id from company_domains d where d.domain = x.domain limit 1) d
                          union select company_id from mail_sources where role = 'company' and address = any(q.recipients)) ids
                    cross join lateral (select c.id, c.name from companies c where c.id = ids.id limit 1) c), '[]'::json) as names,
        coalesce((select json_agg(json_build_object(
                    'number', t.number, 'ticketId', t.id, 'contactEmail', ct.email, 'participants', t.participants,
                    'companyDomains', coalesce((select json_agg(d2.domain) from company_domains d2 where d2.company_id = t.company_id), '[]'::json)))
                    from unnest(q.numbers) n(number)
                    cross join lateral (select * from tickets t where t.number = n.number limit 1) t
                    left join contacts ct on ct.id = t.contact_id), '[]'::json) as subject_tickets,
        coalesce((select json_agg(json_build_object('messageId', m.message_id, 'ticketId', m.ticket_id))
                    from unnest(q.referenced) r(message_id)
                    cross join lateral (select m.message_id, m.ticket_id from message_ids m
                                         where m.message_id = r.message_id and m.ticket_id is not null limit 1) m), '[]'::json) as header_tickets,
        exists(select 1 from unnest(q.referenced) r(message_id)
                 cross join lateral (select 1 from inbound_messages w
                                      where w.message_id = r.message_id and w.status = 'received'
                                        and w.id <> q.inbound_id and w.next_attempt_at <= q.due_by limit 1) w) as awaiting_referenced
      from q cross join shared
      order by q.ord`;
}
