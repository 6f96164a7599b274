import { describe, expect, it } from "vitest";
import { shouldAcknowledge, type AcknowledgementInput } from "../../../src/outbound/acknowledgement-policy.ts";
import { parseEmail } from "../../../src/pipeline/parse-email.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { classifiableEmail } from "../../helpers/classifiable-email.ts";

const email = classifiableEmail;

function input(overrides: Partial<AcknowledgementInput> = {}): AcknowledgementInput {
  return {
    email: email(),
    outcome: "ticket_created",
    acknowledgeLeads: false,
    ownAddresses: new Set(["support@mailgate.test", "help@acme-msp.com"]),
    ownMessageIdDomain: "mailgate.test",
    ownLoopToken: "our-loop-token",
    sentToSenderLastHour: 0,
    perSenderPerHour: 3,
    ...overrides,
  };
}

const from = (address: string) => email({ from: { address, name: "" } });

function reasonOf(overrides: Partial<AcknowledgementInput>): string {
  const decision = shouldAcknowledge(input(overrides));
  if (decision.send) throw new Error("expected a refusal, got send");
  return decision.reason;
}

describe("shouldAcknowledge", () => {
  it("When a person's mail opens a new ticket, then it is acknowledged", () => {
    expect(shouldAcknowledge(input())).toEqual({ send: true });
  });

  it("When a person's real mail is parsed and opens a new ticket, then it is acknowledged", async () => {
    const parsed = await parseEmail(buildEmail({ from: "John Smith <john@acme.com>" }));
    expect(shouldAcknowledge(input({ email: parsed }))).toEqual({ send: true });
  });

  describe("outcome", () => {
    it("When the mail became a note on an existing ticket, then it is not acknowledged", () => {
      expect(reasonOf({ outcome: "note_added" })).toBe("not_new_ticket: the mail became note_added, and only a new ticket is acknowledged");
    });

    it("When the mail was ignored, a duplicate or unrouted, then it is not acknowledged", () => {
      for (const outcome of ["ignored", "duplicate", "unrouted", "failed", "received"] as const) {
        expect(reasonOf({ outcome }), outcome).toMatch(new RegExp(`^not_new_ticket: the mail became ${outcome}`));
      }
    });

    it("When the mail became a lead and leads are not acknowledged, then it is not acknowledged", () => {
      expect(reasonOf({ outcome: "lead_created" })).toBe("lead: acknowledgements for leads are turned off");
    });

    it("When the mail became a lead and leads are acknowledged, then it is acknowledged", () => {
      expect(shouldAcknowledge(input({ outcome: "lead_created", acknowledgeLeads: true }))).toEqual({ send: true });
    });
  });

  describe("machines", () => {
    it("When the mail says Auto-Submitted other than no, then it is not acknowledged", () => {
      expect(reasonOf({ email: email({ headers: { "auto-submitted": "auto-replied" } }) })).toBe("auto_reply: Auto-Submitted: auto-replied");
      expect(reasonOf({ email: email({ headers: { "auto-submitted": "auto-generated" } }) })).toMatch(/^auto_reply: /);
    });

    it("When the mail says Auto-Submitted: no, then it is a person's and is acknowledged", () => {
      expect(shouldAcknowledge(input({ email: email({ headers: { "auto-submitted": "no" } }) }))).toEqual({ send: true });
    });

    it("When the mail carries X-Autoreply, then it is not acknowledged", () => {
      expect(reasonOf({ email: email({ headers: { "x-autoreply": "yes" } }) })).toBe("auto_reply: X-Autoreply: yes");
    });

    it("When the mail carries X-Autorespond, then it is not acknowledged", () => {
      expect(reasonOf({ email: email({ headers: { "x-autorespond": "Out of office" } }) })).toBe("auto_reply: X-Autorespond: Out of office");
    });

    it("When the mail is a delivery status report, then it is not acknowledged", () => {
      expect(reasonOf({ email: email({ contentType: "multipart/report", reportType: "delivery-status" }) })).toMatch(/^bounce: /);
    });

    it("When the Return-Path is empty, then it is not acknowledged", () => {
      expect(reasonOf({ email: email({ headers: { "return-path": "<>" } }) })).toBe("bounce: Return-Path: <> (null sender)");
    });

    it("When the mail says Precedence bulk, junk or list, then it is not acknowledged", () => {
      for (const precedence of ["bulk", "junk", "list", "Bulk"]) {
        expect(reasonOf({ email: email({ headers: { precedence } }) }), precedence).toBe(`bulk: Precedence: ${precedence.toLowerCase()}`);
      }
    });

    it("When the mail carries List-Id, then it is not acknowledged", () => {
      expect(reasonOf({ email: email({ headers: { "list-id": "<news.acme.com>" } }) })).toBe("bulk: List-Id: <news.acme.com>");
    });

    it("When the mail carries List-Unsubscribe, then it is not acknowledged", () => {
      expect(reasonOf({ email: email({ headers: { "list-unsubscribe": "<mailto:leave@acme.com>" } }) })).toBe("bulk: List-Unsubscribe present");
    });

    it("When the mail is mailgate's own coming back, then it is not acknowledged", () => {
      expect(reasonOf({ email: email({ headers: { "x-mailgate-loop": "our-loop-token" } }) })).toMatch(/^own_loop: /);
    });

    it("When an auto-reply arrives as raw mail, then parsing keeps the header that refuses it", async () => {
      const parsed = await parseEmail(buildEmail({ headers: { "Auto-Submitted": "auto-replied" } }));
      expect(shouldAcknowledge(input({ email: parsed }))).toEqual({ send: false, reason: "auto_reply: Auto-Submitted: auto-replied" });
    });
  });

  describe("sender", () => {
    it("When MAILER-DAEMON or postmaster sends, then it is not acknowledged", () => {
      expect(reasonOf({ email: from("MAILER-DAEMON@mx.acme.com") })).toBe("bounce: sent by MAILER-DAEMON@mx.acme.com");
      expect(reasonOf({ email: from("postmaster@acme.com") })).toBe("bounce: sent by postmaster@acme.com");
    });

    it("When a no-reply mailbox sends, then it is not acknowledged, whatever its spelling", () => {
      for (const address of ["no-reply@acme.com", "noreply@acme.com", "NoReply@acme.com", "do-not-reply@acme.com", "donotreply@acme.com", "no_reply@acme.com", "noreply-billing@acme.com", "no-reply+x1@acme.com"]) {
        expect(reasonOf({ email: from(address) }), address).toBe(`no_reply_sender: ${address} is a mailbox nobody reads`);
      }
    });

    it("When a person's local part only contains reply words, then it is acknowledged", () => {
      for (const address of ["replyteam@acme.com", "nora@acme.com", "john.noreply@acme.com", "noreplyer@acme.com"]) {
        expect(shouldAcknowledge(input({ email: from(address) })), address).toEqual({ send: true });
      }
    });

    it("When the sender is one of our own source addresses, in any case, then it is not acknowledged", () => {
      expect(reasonOf({ email: from("Help@Acme-MSP.com") })).toBe("own_address: Help@Acme-MSP.com is one of our own sources");
    });

    it("When the mail has no sender, then it is not acknowledged", () => {
      expect(reasonOf({ email: email({ from: null }) })).toBe("no_sender: the mail has no From address");
      expect(reasonOf({ email: from("  ") })).toBe("no_sender: the mail has no From address");
    });

    it("When the sender is not an address mail can be sent to, then it is not acknowledged", () => {
      for (const address of ["john", "john@", "@acme.com", "john@localhost", "john@acme..com", "john@-acme.com", "jo hn@acme.com", "john@acme.com>\r\nBcc: x@evil.com", '"john"@acme.com', `${"x".repeat(65)}@acme.com`]) {
        expect(reasonOf({ email: from(address) }), address).toMatch(/^invalid_sender: /);
      }
    });

    it("When the sender's address has plus addressing, dots or an international domain, then it is acknowledged", () => {
      for (const address of ["john.smith+support@acme.com", "j_o-h.n@sub.acme.co.uk", "jürgen@müller.de", "john@xn--mller-kva.de"]) {
        expect(shouldAcknowledge(input({ email: from(address) })), address).toEqual({ send: true });
      }
    });
  });

  describe("per-sender limit", () => {
    it("When the sender got fewer acknowledgements this hour than the limit, then it is acknowledged", () => {
      expect(shouldAcknowledge(input({ sentToSenderLastHour: 2, perSenderPerHour: 3 }))).toEqual({ send: true });
    });

    it("When the sender got as many acknowledgements this hour as the limit, then it is not acknowledged", () => {
      expect(reasonOf({ sentToSenderLastHour: 3, perSenderPerHour: 3 })).toBe("rate_limited: 3 acknowledgements already went to john@acme.com in the last hour (limit 3)");
    });

    it("When the limit is one, then a second new ticket within the hour is not acknowledged", () => {
      expect(shouldAcknowledge(input({ sentToSenderLastHour: 0, perSenderPerHour: 1 }))).toEqual({ send: true });
      expect(reasonOf({ sentToSenderLastHour: 1, perSenderPerHour: 1 })).toMatch(/^rate_limited: /);
    });

    it("When a mail is refused for another reason too, then that reason is given, not the limit", () => {
      expect(reasonOf({ outcome: "note_added", sentToSenderLastHour: 9 })).toMatch(/^not_new_ticket: /);
      expect(reasonOf({ email: from("noreply@acme.com"), sentToSenderLastHour: 9 })).toMatch(/^no_reply_sender: /);
    });
  });
});
