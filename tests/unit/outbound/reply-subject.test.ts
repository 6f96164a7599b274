import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { replySubject } from "../../../src/outbound/reply-subject.ts";
import { findTicketNumber } from "../../../src/pipeline/subject-tag.ts";

const TAG = "Ticket #";

describe("replySubject", () => {
  it("When a ticket is answered, then the subject is Re:, the tag and the original subject, as in the guide", () => {
    expect(replySubject("Printer is broken", 1234, TAG)).toBe("Re: [Ticket #1234] Printer is broken");
  });

  it("When the original subject has reply and forward prefixes, then they are replaced by one Re:", () => {
    for (const subject of ["Re: Printer is broken", "RE: RE: Printer is broken", "Fwd: Re: Printer is broken", "AW: WG: Printer is broken", "Re[2]: Printer is broken", "SV:Printer is broken"]) {
      expect(replySubject(subject, 1234, TAG), subject).toBe("Re: [Ticket #1234] Printer is broken");
    }
  });

  it("When the subject already carries this ticket's tag, then the tag is not doubled", () => {
    for (const subject of ["[Ticket #1234] Printer is broken", "Re: [Ticket #1234] Printer is broken", "Re: Re: [Ticket #1234] [Ticket #1234] Printer is broken", "Re: [ticket#1234] Re: Printer is broken", "Re: [ Ticket # 1234 ] Printer is broken"]) {
      expect(replySubject(subject, 1234, TAG), subject).toBe("Re: [Ticket #1234] Printer is broken");
    }
  });

  it("When this ticket's tag sits at the end of the subject, as some clients put it, then it moves to the front once", () => {
    expect(replySubject("AW: Printer is broken [Ticket#1234]", 1234, TAG)).toBe("Re: [Ticket #1234] Printer is broken");
  });

  it("When the subject carries another ticket's tag, then that tag stays as part of the text", () => {
    expect(replySubject("Re: [Ticket #99] Printer is broken", 1234, TAG)).toBe("Re: [Ticket #1234] [Ticket #99] Printer is broken");
  });

  it("When the subject has other bracketed words, then they stay", () => {
    expect(replySubject("[URGENT] Printer is broken", 1234, TAG)).toBe("Re: [Ticket #1234] [URGENT] Printer is broken");
  });

  it("When the subject is empty or only prefixes and tags, then the reply says (no subject)", () => {
    for (const subject of ["", "   ", "Re:", "Re: Fwd:", "[Ticket #1234]", "Re: [Ticket #1234] "]) {
      expect(replySubject(subject, 1234, TAG), JSON.stringify(subject)).toBe("Re: [Ticket #1234] (no subject)");
    }
  });

  it("When the subject holds line breaks or control characters, then the reply's subject is one clean line", () => {
    expect(replySubject("Printer\r\n is\tbroken\u0000 again", 1234, TAG)).toBe("Re: [Ticket #1234] Printer is broken again");
  });

  it("When a reply's subject is answered again, then it comes out the same", () => {
    const once = replySubject("Fwd: Printer is broken", 7, TAG);
    expect(replySubject(once, 7, TAG)).toBe(once);
  });

  it("When the tag is custom, then the subject carries it and findTicketNumber reads the number back", () => {
    for (const tag of ["Ticket #", "TKT-", "Case ", "Ticket#", "SR", "Case.No*"]) {
      const subject = replySubject("Re: Printer is broken", 4321, tag);
      expect(subject, tag).toBe(`Re: [${tag}4321] Printer is broken`);
      expect(findTicketNumber(subject, tag), tag).toBe(4321);
    }
  });

  it("When any subject is answered on any ticket, then findTicketNumber finds that ticket's number and the tag is there once", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.integer({ min: 1, max: 10 ** 9 }), fc.constantFrom("Ticket #", "TKT-", "Case "), (subject, number, tag) => {
        const reply = replySubject(subject, number, tag);
        expect(findTicketNumber(reply, tag)).toBe(number);
        expect(reply.split(`[${tag}${number}]`)).toHaveLength(2);
        expect(replySubject(reply, number, tag)).toBe(reply);
      }),
    );
  });
});
