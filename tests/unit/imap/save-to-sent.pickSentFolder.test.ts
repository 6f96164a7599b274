import { describe, expect, it } from "vitest";
import { pickSentFolder } from "../../../src/sources/imap/save-to-sent.ts";

const folder = (path: string, specialUse?: string, specialUseSource?: "user" | "extension" | "name") => ({ path, specialUse, specialUseSource });

describe("pickSentFolder", () => {
  it("When a folder is configured, then it is used as it is and never created", () => {
    expect(pickSentFolder([folder("Sent", "\\Sent", "extension")], "Answered")).toEqual({ path: "Answered", create: false });
  });

  it("When the server flags a folder \\Sent, then it wins over one that only has a usual name", () => {
    const folders = [folder("INBOX", "\\Inbox", "name"), folder("Sent Items", "\\Sent", "name"), folder("Outbox Copies", "\\Sent", "extension")];
    expect(pickSentFolder(folders, undefined)).toEqual({ path: "Outbox Copies", create: false });
    expect(pickSentFolder(folders.slice(0, 2), undefined)).toEqual({ path: "Sent Items", create: false });
  });

  it("When no folder is a Sent folder, then \"Sent\" is used, created only when missing", () => {
    expect(pickSentFolder([folder("INBOX")], undefined)).toEqual({ path: "Sent", create: true });
    expect(pickSentFolder([folder("INBOX"), folder("Sent")], undefined)).toEqual({ path: "Sent", create: false });
  });
});
