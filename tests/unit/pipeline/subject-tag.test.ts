import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findTicketNumber, stripReplyPrefixes } from "../../../src/pipeline/subject-tag.ts";

const TAG = "Ticket #";
const prefix = fc.constantFrom("Re:", "RE:", "re:", "Fwd:", "FW:", "Fw:", "AW:", "WG:", "SV:", "VS:", "TR:", "Antw:", "RE[2]:", "Re(2):", "Re :");
const prefixChain = fc.array(fc.tuple(prefix, fc.constantFrom("", " ", "  ")), { maxLength: 6 }).map((parts) => parts.map(([p, s]) => p + s).join(""));
const text = fc.string({ maxLength: 30 }).filter((s) => !s.includes("["));

describe("findTicketNumber", () => {
  it("When a reply's subject carries the tag, as in the guide, then the number is found", () => {
    expect(findTicketNumber("Re: [Ticket #1234] Your request", TAG)).toBe(1234);
  });

  it("When whitespace and case inside the tag vary, then the number is still found", () => {
    for (const subject of ["[Ticket#1234]", "[Ticket # 1234]", "[ticket #1234 ]", "[ TICKET  #  1234]", "AW: Ticket Templates [Ticket#1234]"]) {
      expect(findTicketNumber(subject, TAG), subject).toBe(1234);
    }
  });

  it("When the tag is configured without a space, then subjects with one still match", () => {
    expect(findTicketNumber("Re: [Ticket # 77] x", "Ticket#")).toBe(77);
  });

  it("When the tag is custom and has regex characters, then it is matched literally", () => {
    expect(findTicketNumber("Re: [Case.No*5] x", "Case.No*")).toBe(5);
    expect(findTicketNumber("Re: [CaseXNo5] x", "Case.No")).toBeNull();
  });

  it("When there is no tag, a bare number, or a different tag, then there is no number", () => {
    for (const subject of ["Printer is broken", "Re: [1234] x", "Order #1234", "[Case #1234]", "[Ticket #]", "[Ticket #12a]"]) {
      expect(findTicketNumber(subject, TAG), subject).toBeNull();
    }
  });

  it("When the number is too large to be a ticket number, then it is ignored", () => {
    expect(findTicketNumber("[Ticket #99999999999999999999]", TAG)).toBeNull();
  });

  it("When the subject has two tags, then the first is used", () => {
    expect(findTicketNumber("[Ticket #1] Re: [Ticket #2]", TAG)).toBe(1);
  });

  it("When the tag is blank, then nothing matches rather than every bracketed number", () => {
    expect(findTicketNumber("[1234]", "   ")).toBeNull();
  });

  it("When a number is embedded after any chain of reply prefixes and text, then it is found", () => {
    fc.assert(
      fc.property(prefixChain, text, fc.integer({ min: 0, max: 2 ** 31 }), text, (chain, before, n, after) => {
        expect(findTicketNumber(`${chain}${before}[Ticket #${n}]${after}`, TAG)).toBe(n);
      }),
    );
  });
});

describe("stripReplyPrefixes", () => {
  it("When a subject has a run of reply and forward prefixes in several languages, then all go", () => {
    expect(stripReplyPrefixes("RE:Re[2]: AW: Fwd: WG:SV: VS: TR: Antw: Re(3): Fw: Printer")).toBe("Printer");
  });

  it("When Re: appears later in the subject, then it stays", () => {
    expect(stripReplyPrefixes("Re: Question about Re: pricing")).toBe("Question about Re: pricing");
  });

  it("When a word only starts like a prefix, then it stays", () => {
    expect(stripReplyPrefixes("Treasure: found")).toBe("Treasure: found");
    expect(stripReplyPrefixes("Revenue report")).toBe("Revenue report");
  });

  it("When there is no prefix, then the subject is unchanged", () => {
    expect(stripReplyPrefixes("  Printer is broken ")).toBe("  Printer is broken ");
  });

  it("When a subject is stripped twice, then the second pass changes nothing", () => {
    fc.assert(
      fc.property(prefixChain, fc.string({ maxLength: 40 }), (chain, rest) => {
        const once = stripReplyPrefixes(chain + rest);
        expect(stripReplyPrefixes(once)).toBe(once);
      }),
    );
  });

  it("When any prefix chain is put before a subject that has none, then stripping gives that subject back", () => {
    fc.assert(
      fc.property(prefixChain, fc.string({ maxLength: 40 }).map((s) => stripReplyPrefixes(s).trimStart()), (chain, subject) => {
        expect(stripReplyPrefixes(chain + subject)).toBe(subject);
      }),
    );
  });
});
