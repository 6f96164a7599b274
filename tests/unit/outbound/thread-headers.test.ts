import { describe, expect, it } from "vitest";
import { addressDomain, MAX_REFERENCES, outboundMessageId, threadHeaders } from "../../../src/outbound/thread-headers.ts";
import { parseEmail } from "../../../src/pipeline/parse-email.ts";
import { buildEmail } from "../../helpers/build-email.ts";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `m${i + 1}@acme.com`);

describe("threadHeaders", () => {
  it("When a ticket has one message, then the reply answers it and references it", () => {
    expect(threadHeaders(["first@acme.com"])).toEqual({ inReplyTo: "<first@acme.com>", references: ["<first@acme.com>"] });
  });

  it("When a ticket has several messages, then In-Reply-To is the last and References lists the thread oldest first", () => {
    expect(threadHeaders(["a@acme.com", "b@mailgate.test", "c@acme.com"])).toEqual({
      inReplyTo: "<c@acme.com>",
      references: ["<a@acme.com>", "<b@mailgate.test>", "<c@acme.com>"],
    });
  });

  it("When the ids come with angle brackets, then they are not doubled", () => {
    expect(threadHeaders(["<a@acme.com>", " <b@acme.com> "])).toEqual({ inReplyTo: "<b@acme.com>", references: ["<a@acme.com>", "<b@acme.com>"] });
  });

  it("When the thread is longer than the cap, then the first id and the most recent ones are kept", () => {
    const { inReplyTo, references } = threadHeaders(ids(50));
    expect(references).toHaveLength(MAX_REFERENCES);
    expect(references[0]).toBe("<m1@acme.com>");
    expect(references[1]).toBe(`<m${50 - MAX_REFERENCES + 2}@acme.com>`);
    expect(references.at(-1)).toBe("<m50@acme.com>");
    expect(inReplyTo).toBe("<m50@acme.com>");
  });

  it("When the thread is exactly as long as the cap, then nothing is dropped", () => {
    expect(threadHeaders(ids(MAX_REFERENCES)).references).toEqual(ids(MAX_REFERENCES).map((id) => `<${id}>`));
  });

  it("When an id was written with capitals, then the headers repeat it as written, as mail clients compare ids exactly", () => {
    expect(threadHeaders(["DM6PR11MB4321.A1B2@namprd11.prod.outlook.com", "mailgate.ab12@msp.example"])).toEqual({
      inReplyTo: "<mailgate.ab12@msp.example>",
      references: ["<DM6PR11MB4321.A1B2@namprd11.prod.outlook.com>", "<mailgate.ab12@msp.example>"],
    });
    expect(threadHeaders(["<Root.X@Acme.com>", "other@acme.com", "root.x@acme.com"]).references).toEqual(["<other@acme.com>", "<root.x@acme.com>"]);
  });

  it("When an id appears twice, then References holds it once, where it last appears", () => {
    expect(threadHeaders(["a@acme.com", "b@acme.com", "a@acme.com"])).toEqual({ inReplyTo: "<a@acme.com>", references: ["<b@acme.com>", "<a@acme.com>"] });
  });

  it("When the last message had no Message-ID of its own, then there is no In-Reply-To and its generated id is not referenced", () => {
    expect(threadHeaders(["a@acme.com", "ff00@generated.mailgate"])).toEqual({ inReplyTo: null, references: ["<a@acme.com>"] });
  });

  it("When the ticket has no usable id at all, then there are no thread headers", () => {
    expect(threadHeaders([])).toEqual({ inReplyTo: null, references: [] });
    expect(threadHeaders(["", "ff00@generated.mailgate"])).toEqual({ inReplyTo: null, references: [] });
  });

  it("When the headers are written into a mail and parsed back, then the parser reads the same thread", async () => {
    const { inReplyTo, references } = threadHeaders(["a@acme.com", "b@acme.com"]);
    const parsed = await parseEmail(buildEmail({ inReplyTo: inReplyTo!, references }));
    expect(parsed.inReplyTo).toEqual(["b@acme.com"]);
    expect(parsed.references).toEqual(["a@acme.com", "b@acme.com"]);
  });
});

describe("outboundMessageId", () => {
  const fixed = (size: number) => Buffer.alloc(size, 0xab);

  it("When an id is made, then it is random hex with our prefix at the source's domain, in angle brackets", () => {
    expect(outboundMessageId("support.acme.com", fixed)).toBe(`<mailgate.${"ab".repeat(16)}@support.acme.com>`);
  });

  it("When no random source is given, then two ids differ", () => {
    const a = outboundMessageId("acme.com");
    expect(a).toMatch(/^<mailgate\.[0-9a-f]{32}@acme\.com>$/);
    expect(outboundMessageId("acme.com")).not.toBe(a);
  });

  it("When the domain has upper case or spaces around it, then the id has the domain's normal form", () => {
    expect(outboundMessageId(" Acme.COM ", fixed)).toBe(`<mailgate.${"ab".repeat(16)}@acme.com>`);
  });

  it("When the domain is not a domain name, then making the id fails and says what was expected", () => {
    for (const domain of ["", "acme..com", "-acme.com", "acme com", "a>b", "acme.com>\r\nBcc: x@evil.com"]) {
      expect(() => outboundMessageId(domain, fixed), JSON.stringify(domain)).toThrow(/expected a domain name/);
    }
  });

  it("When a mail carrying the id is parsed, then its stored id is the id without brackets", async () => {
    const id = outboundMessageId("support.acme.com", fixed);
    expect((await parseEmail(buildEmail({ messageId: id }))).messageId).toBe(id.slice(1, -1));
  });
});

describe("addressDomain", () => {
  it("When an address has a domain, then it is the part after the last @, lower case", () => {
    expect(addressDomain("Support@Acme.COM")).toBe("acme.com");
    expect(addressDomain('"a@b"@acme.com')).toBe("acme.com");
  });

  it("When an address has no domain, then there is none", () => {
    expect(addressDomain("support")).toBeNull();
    expect(addressDomain("support@")).toBeNull();
  });
});
