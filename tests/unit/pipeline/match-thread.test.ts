import { describe, expect, it } from "vitest";
import { decideThread, senderMayUseTicket, type ThreadCandidate } from "../../../src/pipeline/match-thread.ts";

const ticket1234: ThreadCandidate = {
  ticketId: "ticket-1234",
  contactEmail: "john@acme.com",
  participants: ["jane@partner.example", "John@Acme.com"],
  companyDomains: ["acme.com", "acme-corp.com"],
};

describe("senderMayUseTicket", () => {
  it("When the sender is the ticket's contact, then it may", () => {
    expect(senderMayUseTicket("JOHN@acme.com", { ...ticket1234, companyDomains: [] })).toBe(true);
  });

  it("When the sender took part in the ticket, then it may", () => {
    expect(senderMayUseTicket("jane@partner.example", ticket1234)).toBe(true);
  });

  it("When the sender writes from the company's domain or a sub-domain of it, then it may", () => {
    expect(senderMayUseTicket("mary@acme-corp.com", ticket1234)).toBe(true);
    expect(senderMayUseTicket("ops@mail.eu.acme.com", ticket1234)).toBe(true);
  });

  it("When the sender's domain only ends like the company's, then it may not", () => {
    expect(senderMayUseTicket("eve@notacme.com", ticket1234)).toBe(false);
    expect(senderMayUseTicket("eve@acme.com.evil.example", ticket1234)).toBe(false);
  });

  it("When the sender is a stranger or empty, then it may not", () => {
    expect(senderMayUseTicket("eve@evil.example", ticket1234)).toBe(false);
    expect(senderMayUseTicket("", { ...ticket1234, participants: [""] })).toBe(false);
  });
});

describe("decideThread", () => {
  it("When the contact replies with 'Re: [Ticket #1234] Your request', then it is a reply via the subject", () => {
    expect(decideThread({ sender: "john@acme.com", subjectCandidate: ticket1234, headerTicketId: null })).toEqual({
      kind: "reply",
      ticketId: "ticket-1234",
      via: "subject",
    });
  });

  it("When the subject and the headers name different tickets, then the subject wins", () => {
    expect(decideThread({ sender: "john@acme.com", subjectCandidate: ticket1234, headerTicketId: "other" })).toMatchObject({ ticketId: "ticket-1234", via: "subject" });
  });

  it("When a stranger guesses a ticket number, then it never hijacks the ticket", () => {
    expect(decideThread({ sender: "eve@evil.example", subjectCandidate: ticket1234, headerTicketId: null })).toEqual({ kind: "new" });
  });

  it("When a stranger answers our mail (In-Reply-To matched), then it is a reply via the headers", () => {
    expect(decideThread({ sender: "eve@evil.example", subjectCandidate: ticket1234, headerTicketId: "ticket-77" })).toEqual({
      kind: "reply",
      ticketId: "ticket-77",
      via: "headers",
    });
  });

  it("When only In-Reply-To or References name a ticket, then it is a reply via the headers", () => {
    expect(decideThread({ sender: "john@acme.com", subjectCandidate: null, headerTicketId: "ticket-5" })).toEqual({ kind: "reply", ticketId: "ticket-5", via: "headers" });
  });

  it("When nothing matches, then it is a new ticket", () => {
    expect(decideThread({ sender: "john@acme.com", subjectCandidate: null, headerTicketId: null })).toEqual({ kind: "new" });
  });
});
