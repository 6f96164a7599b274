import { describe, expect, it } from "vitest";
import { decodeHeaderText } from "../../../src/pipeline/decode-header-text.ts";

const latin1 = (s: string) => Buffer.from(s, "utf8").toString("latin1");

describe("decodeHeaderText", () => {
  it("When words in several charsets are mixed with plain text, then each is decoded", () => {
    expect(
      decodeHeaderText(" utf8: =?UTF-8?Q?=E4=BD=BF=E3=81=A3=E3=81=A6?= / cp-1251: =?windows-1251?B?0eXw4+XpINPj6+j26uj1?= ", null),
    ).toBe("utf8: 使って / cp-1251: Сергей Углицких");
  });

  it("When encoded words are separated only by folding, then the folding disappears", () => {
    expect(decodeHeaderText("=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=", null)).toBe("ab");
  });

  it("When an encoded word has spaces inside, then it is still decoded as senders meant", () => {
    expect(decodeHeaderText("=?iso-8859-1?Q?Fehler im  Versand?=", null)).toBe("Fehler im  Versand");
  });

  it("When the charset is unknown, then the text is kept rather than lost", () => {
    expect(decodeHeaderText("=?unicode-1-1-utf-7?Q?+ANw-bermittlung?=", null)).toBe("+ANw-bermittlung");
  });

  it("When raw 8-bit text is UTF-8, then it is read as UTF-8 whatever the fallback", () => {
    expect(decodeHeaderText(latin1("Grüße"), "iso-8859-1")).toBe("Grüße");
  });

  it("When raw 8-bit text is not UTF-8 and there is no fallback, then windows-1252 reads it", () => {
    expect(decodeHeaderText(Buffer.from("Größe", "latin1").toString("latin1"), null)).toBe("Größe");
  });

  it("When an ISO-2022-JP word holds 8-bit bytes, then they are read as the Shift_JIS or EUC-JP they are", () => {
    expect(decodeHeaderText("=?ISO-2022-JP?B?g2OBW4OL?=", null)).toBe("ツール");
    expect(decodeHeaderText("=?ISO-2022-JP?B?pcShvKXr?=", null)).toBe("ツール");
    // Real ISO-2022-JP (7-bit escapes) is still read as such.
    expect(decodeHeaderText("=?ISO-2022-JP?B?GyRCJUQhPCVrGyhC?=", null)).toBe("ツール");
  });

  it("When the fallback is a function, then it is asked only for raw 8-bit text that is not UTF-8", () => {
    let asked = 0;
    const fallback = () => {
      asked++;
      return "iso-8859-1";
    };
    expect(decodeHeaderText("plain =?UTF-8?Q?=C3=BC?=", fallback)).toBe("plain ü");
    expect(asked).toBe(0);
    expect(decodeHeaderText(Buffer.from("Größe", "latin1").toString("latin1"), fallback)).toBe("Größe");
    expect(asked).toBe(1);
  });

  it("When base64 in a word is broken, then what can be read is read and nothing throws", () => {
    expect(() => decodeHeaderText("=?x-unknown?B?!!!notbase64?=", null)).not.toThrow();
  });
});
