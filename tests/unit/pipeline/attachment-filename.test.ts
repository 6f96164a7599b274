import { describe, expect, it } from "vitest";
import { fallbackAttachmentFilename } from "../../../src/pipeline/attachment-filename.ts";

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
