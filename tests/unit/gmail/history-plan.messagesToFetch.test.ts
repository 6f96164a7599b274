import { describe, expect, it } from "vitest";
import { messagesToFetch } from "../../../src/sources/gmail/history-plan.ts";

const added = (id: string, labelIds: string[] = ["INBOX", "UNREAD"]) => ({ message: { id, threadId: id, labelIds } });

describe("messagesToFetch", () => {
  it("lists every added message once, in history order, across records", () => {
    const records = [
      { id: "10", messagesAdded: [added("a"), added("b")] },
      { id: "11", messagesAdded: [added("b"), added("c")] },
    ];
    expect(messagesToFetch(records)).toEqual(["a", "b", "c"]);
  });

  it("skips drafts and the mailbox's own sent mail", () => {
    const records = [{ id: "1", messagesAdded: [added("draft", ["DRAFT"]), added("sent", ["SENT", "INBOX"]), added("mail")] }];
    expect(messagesToFetch(records)).toEqual(["mail"]);
  });

  it("ignores records without added messages (label changes, deletions)", () => {
    expect(messagesToFetch([{ id: "1", labelsAdded: [{ message: { id: "x" }, labelIds: ["STARRED"] }] }, { id: "2" }])).toEqual([]);
  });
});
