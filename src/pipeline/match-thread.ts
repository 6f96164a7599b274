// Is this mail a reply to an existing ticket? The subject's ticket number is the strongest sign
// but anyone can type one, so it counts only for people who belong to the ticket; the headers
// (In-Reply-To, References, looked up by the caller) name mail we have seen and count for anyone.

export type ThreadCandidate = {
  ticketId: string;
  contactEmail: string | null;
  participants: string[];
  companyDomains: string[];
};

export type ThreadDecision = { kind: "reply"; ticketId: string; via: "subject" | "headers" } | { kind: "new" };

/** The sender is the ticket's contact, one of its participants, or writes from one of its company's domains (or a sub-domain). */
export function senderMayUseTicket(sender: string, c: ThreadCandidate): boolean {
  const address = sender.trim().toLowerCase();
  if (address === "") return false;
  if (c.contactEmail !== null && c.contactEmail.trim().toLowerCase() === address) return true;
  if (c.participants.some((p) => p.trim().toLowerCase() === address)) return true;
  const at = address.lastIndexOf("@");
  const domain = at === -1 ? "" : address.slice(at + 1);
  if (domain === "") return false;
  return c.companyDomains.some((d) => {
    const company = d.trim().toLowerCase();
    return company !== "" && (domain === company || domain.endsWith(`.${company}`));
  });
}

/**
 * Subject number first (when the sender may use that ticket), then the headers, else a new
 * ticket. A stranger guessing a number falls through to the headers, so a guess never hijacks.
 */
export function decideThread(input: { sender: string; subjectCandidate: ThreadCandidate | null; headerTicketId: string | null }): ThreadDecision {
  const { sender, subjectCandidate, headerTicketId } = input;
  if (subjectCandidate !== null && senderMayUseTicket(sender, subjectCandidate)) {
    return { kind: "reply", ticketId: subjectCandidate.ticketId, via: "subject" };
  }
  if (headerTicketId !== null) return { kind: "reply", ticketId: headerTicketId, via: "headers" };
  return { kind: "new" };
}
