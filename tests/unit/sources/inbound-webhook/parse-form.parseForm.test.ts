import { describe, expect, it } from "vitest";
import { parseForm } from "../../../../src/sources/inbound-webhook/parse-form.ts";

const latin1 = Buffer.from("Subject: caf\xe9\r\n\r\nna\xefve\r\n", "latin1");

describe("parseForm", () => {
  it("When a multipart field holds bytes that are not UTF-8, then they come back exactly as sent", () => {
    const body = Buffer.concat([
      Buffer.from('--b0\r\nContent-Disposition: form-data; name="token"\r\n\r\nabc\r\n--b0\r\nContent-Disposition: form-data; name="body-mime"\r\n\r\n'),
      latin1,
      Buffer.from("\r\n--b0--\r\n"),
    ]);
    const form = parseForm(body, 'multipart/form-data; boundary="b0"');
    expect(form.ok && form.fields.get("body-mime")).toEqual(latin1);
    expect(form.ok && form.fields.get("token")?.toString()).toBe("abc");
  });

  it("When a url-encoded field is percent-encoded Latin-1, then its bytes are kept and + is a space", () => {
    const form = parseForm(Buffer.from("a=caf%E9+x&b=%41"), "application/x-www-form-urlencoded");
    expect(form.ok && form.fields.get("a")).toEqual(Buffer.from("caf\xe9 x", "latin1"));
    expect(form.ok && form.fields.get("b")?.toString()).toBe("A");
  });

  it("When the body is cut short, has no boundary, or is not a form, then it says why", () => {
    expect(parseForm(Buffer.from('--b0\r\nContent-Disposition: form-data; name="x"\r\n\r\nhalf'), "multipart/form-data; boundary=b0")).toMatchObject({ ok: false, reason: expect.stringMatching(/cut short/) });
    expect(parseForm(Buffer.from(""), "multipart/form-data")).toMatchObject({ ok: false, reason: expect.stringMatching(/boundary/) });
    expect(parseForm(Buffer.from("{}"), "application/json")).toMatchObject({ ok: false, reason: expect.stringMatching(/expected a form/) });
  });
});
