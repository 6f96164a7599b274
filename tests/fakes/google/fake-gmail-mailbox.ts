// One Gmail mailbox: messages with labels and internal dates, a history of messageAdded records
// with increasing ids (and a floor below which history is gone: 404), user labels, and its watch
// (Gmail keeps one per mailbox).
import { randomBytes } from "node:crypto";

export type FakeGmailMessage = { id: string; threadId: string; raw: Buffer; labelIds: string[]; internalDate: number; historyId: bigint };
export type HistoryRecord = { id: bigint; message: FakeGmailMessage; labelIdsAtAdd: string[] };
export type FakeLabel = { id: string; name: string; type: "system" | "user" };
export type Watch = { topicName: string; expiration: number; labelIds: string[] };

const SYSTEM_LABELS = ["INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "IMPORTANT", "STARRED"];

export class FakeGmailMailbox {
  readonly emailAddress: string;
  readonly messages = new Map<string, FakeGmailMessage>();
  readonly history: HistoryRecord[] = [];
  readonly labels: FakeLabel[] = SYSTEM_LABELS.map((id) => ({ id, name: id, type: "system" as const }));
  /** The mailbox's current history id; starts high, as real ones do. */
  historyId = 12_345_678n;
  /** startHistoryId below this answers 404 (Gmail keeps history for about a week). */
  historyFloor = 0n;
  /** users.watch's, until users.stop or a new users.watch replaces it. */
  watch: Watch | null = null;

  constructor(emailAddress: string) {
    this.emailAddress = emailAddress;
  }

  add(raw: Buffer, opts: { labelIds?: string[]; internalDate?: Date; threadId?: string } = {}): FakeGmailMessage {
    this.historyId += BigInt(1 + Math.floor(Math.random() * 3));
    const labelIds = opts.labelIds ?? ["INBOX", "UNREAD"];
    const message: FakeGmailMessage = {
      id: randomBytes(8).toString("hex"),
      threadId: opts.threadId ?? randomBytes(8).toString("hex"),
      raw,
      labelIds: [...labelIds],
      internalDate: (opts.internalDate ?? new Date()).getTime(),
      historyId: this.historyId,
    };
    this.messages.set(message.id, message);
    this.history.push({ id: this.historyId, message, labelIdsAtAdd: [...labelIds] });
    return message;
  }

  /** Drops the history up to now: any older startHistoryId answers 404. */
  forgetHistory(): void {
    this.historyFloor = this.historyId;
    this.history.length = 0;
  }

  /** users.history.list: records after startHistoryId, messageAdded only, optionally only with a label. */
  listHistory(startHistoryId: bigint, opts: { labelId?: string; maxResults: number; offset: number }) {
    const matching = this.history.filter((h) => h.id > startHistoryId && (!opts.labelId || h.labelIdsAtAdd.includes(opts.labelId)));
    const page = matching.slice(opts.offset, opts.offset + opts.maxResults);
    return { page, more: opts.offset + opts.maxResults < matching.length };
  }

  /** users.messages.list with `in:inbox after:<epoch seconds>`, newest first. */
  search(q: string): FakeGmailMessage[] {
    const inInbox = /\bin:inbox\b/i.test(q);
    const after = /\bafter:(\d+)\b/.exec(q)?.[1];
    return [...this.messages.values()]
      .filter((m) => !m.labelIds.includes("TRASH") && !m.labelIds.includes("SPAM"))
      .filter((m) => !inInbox || m.labelIds.includes("INBOX"))
      .filter((m) => after === undefined || m.internalDate > Number(after) * 1000)
      .sort((a, b) => b.internalDate - a.internalDate);
  }

  modify(id: string, add: string[], remove: string[]): FakeGmailMessage | null {
    const message = this.messages.get(id);
    if (!message) return null;
    for (const label of add) if (!message.labelIds.includes(label)) message.labelIds.push(label);
    message.labelIds = message.labelIds.filter((l) => !remove.includes(l));
    this.historyId += 1n;
    return message;
  }

  createLabel(name: string): FakeLabel {
    const label: FakeLabel = { id: `Label_${this.labels.length + 1}`, name, type: "user" };
    this.labels.push(label);
    return label;
  }

  labelNamesOf(id: string): string[] {
    const message = this.messages.get(id);
    return (message?.labelIds ?? []).map((l) => this.labels.find((x) => x.id === l)?.name ?? l);
  }
}
