// Which company a new ticket belongs to (the guide's "Domain-Based Routing"): a company mailbox
// names its company; on the system mailbox a company mailbox among the recipients wins ("company-
// specific mailboxes are processed first"), then the sender's domain mapping, then the policy
// for unmapped domains.

export type RouteInput = {
  source: { role: "system" | "company"; companyId: string | null };
  /** Companies whose mailboxes were also addressed, in recipient order. */
  recipientCompanyIds: string[];
  /** Mapped domain → company id, for the sender's domain candidates. */
  domainMatches: Record<string, string>;
  senderAddress: string;
  unmapped: { mode: "default_company"; defaultCompanyId: string | null } | { mode: "lead" };
};

export type RouteDecision =
  | { kind: "company"; companyId: string; via: "company_mailbox" | "recipient_mailbox" | "domain" | "default_company"; unmapped: boolean }
  | { kind: "lead"; domain: string }
  | { kind: "unrouted"; reason: string };

/**
 * The sender's domain and its parents, most specific first, down to two labels:
 * "j@mail.eu.acme.com" → ["mail.eu.acme.com", "eu.acme.com", "acme.com"]. [] without a domain.
 */
export function senderDomainCandidates(address: string): string[] {
  const at = address.lastIndexOf("@");
  if (at === -1) return [];
  const domain = address
    .slice(at + 1)
    .trim()
    .toLowerCase()
    .replace(/[>\s]+$/, "")
    .replace(/\.$/, "");
  const labels = domain.split(".");
  if (domain === "" || labels.some((label) => label === "")) return [];
  if (labels.length === 1) return [domain];
  return labels.slice(0, labels.length - 1).map((_, i) => labels.slice(i).join("."));
}

export function decideRoute(input: RouteInput): RouteDecision {
  const { source, recipientCompanyIds, domainMatches, senderAddress, unmapped } = input;
  if (source.role === "company" && source.companyId !== null) {
    return { kind: "company", companyId: source.companyId, via: "company_mailbox", unmapped: false };
  }
  const recipientCompany = recipientCompanyIds[0];
  if (recipientCompany !== undefined) return { kind: "company", companyId: recipientCompany, via: "recipient_mailbox", unmapped: false };

  const candidates = senderDomainCandidates(senderAddress);
  for (const domain of candidates) {
    const companyId = domainMatches[domain];
    if (companyId !== undefined) return { kind: "company", companyId, via: "domain", unmapped: false };
  }

  const domain = candidates[0];
  const who = domain === undefined ? "The sender has no email domain" : `No company is mapped to the sender's domain ${domain}`;
  switch (unmapped.mode) {
    case "default_company":
      if (unmapped.defaultCompanyId !== null) {
        return { kind: "company", companyId: unmapped.defaultCompanyId, via: "default_company", unmapped: true };
      }
      return {
        kind: "unrouted",
        reason: `${who} and no default company is set: map the domain to a company (Customers → Company → Email Domains) or set a default company for unmapped domains.`,
      };
    case "lead":
      if (domain === undefined) return { kind: "unrouted", reason: `${who}, so no lead can be created for it.` };
      return { kind: "lead", domain };
  }
}
