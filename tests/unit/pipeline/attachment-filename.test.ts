import { describe, expect, it } from "vitest";
import { MAX_FILENAME_BYTES, fallbackAttachmentFilename, safeAttachmentFilename } from "../../../src/pipeline/attachment-filename.ts";

const safe = (name: string | null | undefined, contentType = "application/octet-stream") => safeAttachmentFilename(name, contentType);
const bytes = (s: string) => Buffer.byteLength(s, "utf8");

// Every name below, for the checks that hold whatever the input.
const HOSTILE = [
  "../../etc/passwd",
  'a"b\r\nX-Injected: 1.txt',
  "invoice\u202egnp.exe",
  "C:\\Users\\me\\..\\evil.exe",
  "a\0b.txt",
  ".",
  "..",
  "....",
  ". . .",
  ".htaccess",
  "",
  " ",
  "\u202e\u2066\u200b",
  "report.pdf. . ",
  "CON.txt",
  "x".repeat(400) + ".pdf",
  "é".repeat(200) + ".docx",
  "👨‍👩‍👧".repeat(40) + ".png",
  "a." + "b".repeat(400),
  "a" + "\u0301".repeat(400) + ".txt",
  "Cafe\u0301.pdf",
  "a\ud800b.txt",
  "tab\there\u2028line\u00a0space.txt",
];

describe("fallbackAttachmentFilename", () => {
  it("When nothing names the part, then it is attachment-<n> with an extension from the type", () => {
    expect(fallbackAttachmentFilename({ contentType: "application/pdf", position: 1 })).toBe("attachment-1.pdf");
    expect(fallbackAttachmentFilename({ contentType: "IMAGE/JPEG; name=x", position: 2 })).toBe("attachment-2.jpg");
    expect(fallbackAttachmentFilename({ contentType: "application/x-whatever", position: 3 })).toBe("attachment-3.bin");
  });

  it("When an attached message has a subject, then the subject names the .eml", () => {
    expect(fallbackAttachmentFilename({ contentType: "message/rfc822", position: 1, embeddedSubject: "Re: Invoice", description: "Forwarded" })).toBe("Re: Invoice.eml");
  });

  it("When the part has a description, then it names the file", () => {
    expect(fallbackAttachmentFilename({ contentType: "message/delivery-status", position: 1, description: "Delivery report" })).toBe("Delivery report.txt");
  });

  it("When an Outlook Content-ID is a file name, then that name is used", () => {
    expect(fallbackAttachmentFilename({ contentType: "image/png", position: 1, contentId: "image001.png@01D0.2A" })).toBe("image001.png");
    expect(fallbackAttachmentFilename({ contentType: "image/png", position: 4, contentId: "485376C9-2486@home" })).toBe("attachment-4.png");
  });

  it("When a name hint has path separators or control characters, then they cannot escape into the name", () => {
    expect(fallbackAttachmentFilename({ contentType: "message/rfc822", position: 1, embeddedSubject: "../../etc/passwd\r\n" })).toBe(".. .. etc passwd.eml");
    expect(fallbackAttachmentFilename({ contentType: "text/plain", position: 1, description: " .. " })).toBe("attachment-1.txt");
  });
});

describe("safeAttachmentFilename", () => {
  it("When a name climbs out of its folder, then its separators become underscores and it starts with no dot", () => {
    expect(safe("../../etc/passwd")).toBe("_.._etc_passwd");
    expect(safe("C:\\Users\\me\\..\\evil.exe")).toBe("C__Users_me_.._evil.exe");
  });

  it("When a name carries line breaks and quotes to break a header, then the line break is a space and the quote an underscore", () => {
    expect(safe('a"b\r\nX-Injected: 1.txt')).toBe("a_b X-Injected_ 1.txt");
  });

  it("When a name hides its real extension behind a right-to-left override, then the override is gone and .exe shows", () => {
    expect(safe("invoice\u202egnp.exe")).toBe("invoicegnp.exe");
    expect(safe("\u2066report\u2069\u200b.pdf\u2067")).toBe("report.pdf");
  });

  it("When a name has NUL or other control characters, then each run of them reads as one space", () => {
    expect(safe("a\0b.txt")).toBe("a b.txt");
    expect(safe("report.pdf\0.exe")).toBe("report.pdf .exe");
    expect(safe("tab\there\u2028line\u00a0space.txt")).toBe("tab here line space.txt");
  });

  it("When a name is long, then it is cut to 255 bytes of UTF-8 at whole characters and keeps its extension", () => {
    const ascii = safe("x".repeat(400) + ".pdf");
    expect(ascii).toBe("x".repeat(MAX_FILENAME_BYTES - 4) + ".pdf");
    const accented = safe("é".repeat(200) + ".docx");
    expect(bytes(accented)).toBeLessThanOrEqual(MAX_FILENAME_BYTES);
    expect(accented).toBe("é".repeat(125) + ".docx");
    const emoji = safe("📄".repeat(100) + ".png");
    expect(emoji).toBe("📄".repeat(62) + ".png");
  });

  it("When a long name's last dot starts no short extension, then the name is cut from its end like any other", () => {
    expect(safe("a." + "b".repeat(400))).toBe("a." + "b".repeat(MAX_FILENAME_BYTES - 2));
  });

  it("When a cut would end the stem on spaces or dots, then they go too", () => {
    expect(safe("x".repeat(250) + " . . . .pdf")).toBe("x".repeat(250) + ".pdf");
  });

  it("When a name is only dots, spaces or invisible characters, then it is 'attachment' with the type's extension", () => {
    for (const name of [".", "..", "....", ". . .", " ", "\u202e\u2066\u200b"]) {
      expect(safe(name, "application/pdf"), JSON.stringify(name)).toBe("attachment.pdf");
    }
    expect(safe("..", "application/x-unknown")).toBe("attachment");
  });

  it("When there is no name, then it is 'attachment' with the type's extension, if the type has one", () => {
    expect(safe("", "image/png")).toBe("attachment.png");
    expect(safe(null, "text/plain; charset=utf-8")).toBe("attachment.txt");
    expect(safe(undefined, "application/octet-stream")).toBe("attachment");
  });

  it("When a name starts with dots, then they go (no hidden files), and trailing dots and spaces go too", () => {
    expect(safe(".htaccess")).toBe("htaccess");
    expect(safe("report.pdf. . ")).toBe("report.pdf");
  });

  it("When a name is a Windows device name, then it is prefixed so no system takes it for one", () => {
    expect(safe("CON.txt")).toBe("_CON.txt");
    expect(safe("nul")).toBe("_nul");
    expect(safe("console.txt")).toBe("console.txt");
  });

  it("When the same name comes composed (NFC) or decomposed (NFD), then it is the same composed name", () => {
    expect(safe("Cafe\u0301.pdf")).toBe("Caf\u00e9.pdf");
    expect(safe("Caf\u00e9.pdf")).toBe("Caf\u00e9.pdf");
  });

  it("When emoji are joined by zero-width joiners, then the joiners go with the other invisible characters", () => {
    // A family emoji becomes its three people: readable, and no invisible character survives.
    expect(safe("👨\u200d👩\u200d👧.png")).toBe("👨👩👧.png");
  });

  it("When a name holds half a UTF-16 pair, then it is a replacement character", () => {
    expect(safe("a\ud800b.txt")).toBe("a\ufffdb.txt");
  });

  it("Whatever the name, the result is non-empty, bounded, visible, separator-free, and the same when made safe again", () => {
    for (const name of HOSTILE) {
      const result = safe(name, "application/pdf");
      const label = JSON.stringify(name);
      expect(result, label).not.toBe("");
      expect(bytes(result), label).toBeLessThanOrEqual(MAX_FILENAME_BYTES);
      expect(result, label).not.toMatch(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}/\\:*?"<>|]/u);
      expect(result, label).not.toMatch(/^[. ]|[. ]$/);
      expect(result, label).toBe(result.normalize("NFC"));
      expect(safe(result, "application/pdf"), label).toBe(result);
    }
  });
});
