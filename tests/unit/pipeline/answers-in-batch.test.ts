import { describe, expect, it } from "vitest";
import { answersInBatch } from "../../../src/pipeline/worker.ts";

const mail = (messageId: string, refs: string[] = []) => ({ messageId, inReplyTo: refs.slice(0, 1), references: refs, embeddedMessageIds: [] });

describe("answersInBatch", () => {
  it("When a reply shares a batch with the mail it answers, then the reply waits, wherever it stands", () => {
    expect(answersInBatch([mail("a"), mail("b", ["a"])])).toEqual(new Set([1]));
    expect(answersInBatch([mail("b", ["a"]), mail("a")])).toEqual(new Set([0]));
  });

  it("When mails answer nothing in the batch, then none waits", () => {
    expect(answersInBatch([mail("a", ["x"]), mail("b", ["y"]), mail("c")])).toEqual(new Set());
  });

  it("When two copies of one mail or a mail naming itself are in a batch, then none waits (dedupe decides)", () => {
    expect(answersInBatch([mail("a", ["a"]), mail("a", ["a"])])).toEqual(new Set());
  });

  it("When two mails name each other, then the first goes ahead", () => {
    expect(answersInBatch([mail("a", ["b"]), mail("b", ["a"])])).toEqual(new Set([1]));
  });

  it("When a bounce carries the id of a mail in the batch, then it waits for it", () => {
    expect(answersInBatch([{ ...mail("bounce"), embeddedMessageIds: ["a"] }, mail("a")])).toEqual(new Set([0]));
  });
});
