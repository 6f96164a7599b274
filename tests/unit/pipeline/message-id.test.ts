import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generatedMessageId, headerMessageId, messageIdDomain, normaliseMessageId, parseMessageIdList } from "../../../src/pipeline/message-id.ts";
import { parseEmail } from "../../../src/pipeline/parse-email.ts";

// Ids as they appear in real headers: no whitespace, brackets or parentheses inside.
const idChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_$%+=!#&*/?^{}|~".split(""));
const rawId = fc
  .tuple(fc.string({ unit: idChar, minLength: 1, maxLength: 30 }), fc.string({ unit: idChar, minLength: 1, maxLength: 20 }))
  .map(([local, domain]) => `${local}@${domain}`);

describe("normaliseMessageId", () => {
  it("When an id has brackets, whitespace and upper case, then it comes out bare and lower-case", () => {
    expect(normaliseMessageId("  <ABC.123@Mail.Example.COM>  ")).toBe("abc.123@mail.example.com");
  });

  it("When an id carries comments, then the comments are dropped", () => {
    expect(normaliseMessageId("(sent by x) <a@b> (John's message)")).toBe("a@b");
    expect(normaliseMessageId("<a@b> (nested (comment))")).toBe("a@b");
  });

  it("When an id was folded inside its brackets, then the fold is removed", () => {
    expect(normaliseMessageId("<very-long-id\r\n @example.com>")).toBe("very-long-id@example.com");
  });

  it("When there is nothing id-like, then it is null", () => {
    for (const garbage of ["", "   ", "<>", "< >", "(only a comment)", "two words", "x".repeat(999), "a\u0000b@c"]) {
      expect(normaliseMessageId(garbage), JSON.stringify(garbage)).toBeNull();
    }
  });

  it("When an id has no @, then it is still accepted as the token old mailers send", () => {
    expect(normaliseMessageId("<1234.5678>")).toBe("1234.5678");
  });

  it("When a value is normalised twice, then the second pass changes nothing", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (value) => {
        const once = normaliseMessageId(value);
        if (once !== null) expect(normaliseMessageId(once)).toBe(once);
      }),
    );
  });

  it("When the same id is written as <X> or as ' x ', then both normalise equal", () => {
    fc.assert(
      fc.property(rawId, (id) => {
        expect(normaliseMessageId(`<${id}>`)).toBe(normaliseMessageId(` ${id.toLowerCase()} `));
      }),
    );
  });
});

describe("parseMessageIdList", () => {
  it("When References lists ids over folded lines, then all come back in order, once each", () => {
    expect(parseMessageIdList("<a@x>\r\n <B@x> <a@x>\t<c@x>")).toEqual(["a@x", "b@x", "c@x"]);
  });

  it("When the header is missing or empty, then the list is empty", () => {
    expect(parseMessageIdList(undefined)).toEqual([]);
    expect(parseMessageIdList("")).toEqual([]);
    expect(parseMessageIdList([])).toEqual([]);
  });

  it("When several headers are given, then their ids are joined in order", () => {
    expect(parseMessageIdList(["<a@x>", "<b@x> <a@x>"])).toEqual(["a@x", "b@x"]);
  });

  it("When a legacy In-Reply-To wraps the id in prose, then only the bracketed id counts", () => {
    expect(parseMessageIdList('Your message of "Mon, 1 Jan 2024 10:00:00" <orig@host.example>')).toEqual(["orig@host.example"]);
  });

  it("When ids come without brackets, then the words with an @ are the ids", () => {
    expect(parseMessageIdList("a@x, b@x junk")).toEqual(["a@x", "b@x"]);
  });

  it("When a list of normalised ids is joined into a header, then parsing gives the list back", () => {
    fc.assert(
      fc.property(fc.array(rawId, { maxLength: 8 }), fc.constantFrom(" ", "\r\n ", ", ", "\t"), (ids, separator) => {
        const normal = [...new Set(ids.map((id) => normaliseMessageId(id)!))];
        expect(parseMessageIdList(normal.map((id) => `<${id}>`).join(separator))).toEqual(normal);
      }),
    );
  });
});

describe("generatedMessageId", () => {
  const original = [
    "From: John <john@acme.com>",
    "To: support@mailgate.test",
    "Subject: No id here",
    "Date: Mon, 1 Jan 2024 10:00:00 +0000",
    "",
    "",
  ].join("\r\n");

  it("When the same mail arrives through another mailbox with other trace headers, then it gets the same id", () => {
    const viaGmail = [
      "Delivered-To: support@mailgate.test",
      "Received: by 2002:a05:6000:1 with SMTP id x; Mon, 1 Jan 2024 10:00:01 -0800 (PST)",
      "X-Received: by 10.0.0.1",
      "ARC-Seal: i=1; a=rsa-sha256; t=1; cv=none",
      "ARC-Message-Signature: i=1; a=rsa-sha256",
      "ARC-Authentication-Results: i=1; mx.google.com",
      "Return-Path: <john@acme.com>",
      "Authentication-Results: mx.google.com; spf=pass",
      "DKIM-Signature: v=1; a=rsa-sha256; d=acme.com",
      "X-Gm-Message-State: AOJu0Y",
      "X-Google-Smtp-Source: AGHT+IE",
      original,
    ].join("\r\n");
    const viaImap = ["Received: from mx.acme.com by imap.local", "X-Original-To: help@mailgate.test", original.replace(/\r\n/g, "\n")].join("\n");
    expect(generatedMessageId(Buffer.from(viaGmail))).toBe(generatedMessageId(Buffer.from(original)));
    expect(generatedMessageId(Buffer.from(viaImap))).toBe(generatedMessageId(Buffer.from(original)));
  });

  it("When the sender's headers differ, then the ids differ", () => {
    expect(generatedMessageId(Buffer.from(original))).not.toBe(generatedMessageId(Buffer.from(original.replace("No id here", "Another"))));
  });

  it("When an id is generated, then it is normalised and marked as ours", () => {
    const id = generatedMessageId(Buffer.from(original));
    expect(id).toMatch(/^[0-9a-f]{64}@generated\.mailgate$/);
    expect(normaliseMessageId(id)).toBe(id);
  });

  it("When given the whole message, then only the header block counts", () => {
    expect(generatedMessageId(Buffer.from(`${original}body one`))).toBe(generatedMessageId(Buffer.from(`${original}body two`)));
  });
});

describe("messageIdDomain", () => {
  it("When an id has a domain, then it is the part after the last @, lower-case", () => {
    expect(messageIdDomain("<abc@Mail.Example.com>")).toBe("mail.example.com");
    expect(messageIdDomain("a@b@c.example")).toBe("c.example");
  });

  it("When an id has no domain, then it is null", () => {
    expect(messageIdDomain("1234.5678")).toBeNull();
    expect(messageIdDomain("abc@")).toBeNull();
    expect(messageIdDomain("")).toBeNull();
  });
});

describe("generatedMessageId without headers", () => {
  it("When two different messages have no headers at all, then their ids differ", () => {
    const a = generatedMessageId(Buffer.from("just a body line\r\nand another\r\n"));
    const b = generatedMessageId(Buffer.from([0xff, 0x00, 0x13, 0x37]));
    expect(a).not.toBe(b);
  });

  it("When the same header-less message arrives twice, then it gets the same id", () => {
    expect(generatedMessageId(Buffer.from("no headers here"))).toBe(generatedMessageId(Buffer.from("no headers here")));
  });
});

describe("headerMessageId", () => {
  it("When a message has a folded, mixed-case Message-ID, then intake reads the same id parsing finds", async () => {
    const raw = Buffer.from("From: a@b.example\r\nMessage-ID:\r\n <Abc.123@Mail.Example>\r\nSubject: x\r\n\r\nbody\r\n");
    expect(headerMessageId(raw)).toBe("abc.123@mail.example");
    expect((await parseEmail(raw)).messageId).toBe(headerMessageId(raw));
  });

  it("When a message has no Message-ID or no headers, then there is none to know early", () => {
    expect(headerMessageId(Buffer.from("From: a@b.example\r\n\r\nbody"))).toBeNull();
    expect(headerMessageId(Buffer.from([0, 1, 2, 255]))).toBeNull();
  });

  it("When a body line looks like a Message-ID header, then it is not taken for one", () => {
    expect(headerMessageId(Buffer.from("From: a@b.example\r\n\r\nMessage-ID: <not-me@x>\r\n"))).toBeNull();
  });
});
