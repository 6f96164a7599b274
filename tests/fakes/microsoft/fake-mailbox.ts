// The fake's mailbox: Inbox messages with both id forms Graph has (the regular id, which changes
// when a message moves, and the immutable id), and the delta query over them. Delta and skip
// tokens are opaque to clients; a new "generation" makes every earlier token unknown (410).
import { randomBytes } from "node:crypto";

export type FakeMessage = {
  seq: number;
  id: string;
  immutableId: string;
  receivedDateTime: string;
  raw: Buffer;
};

type DeltaState = { gen: number; since: string | null; after: number; upTo: number; full: boolean };

export type DeltaPage = { items: FakeMessage[]; next: { kind: "skip" | "delta"; token: string } };

const newId = (prefix: string) => `${prefix}${randomBytes(30).toString("base64url")}=`;

export class FakeMailbox {
  private messages: FakeMessage[] = [];
  private byId = new Map<string, FakeMessage>();
  private seq = 0;
  private gen = 1;

  add(raw: Buffer, receivedAt: Date): FakeMessage {
    const message: FakeMessage = {
      seq: ++this.seq,
      id: newId("AAMkAGI2T"),
      immutableId: newId("AAkALgAAA"),
      receivedDateTime: receivedAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
      raw,
    };
    this.messages.push(message);
    this.byId.set(message.id, message).set(message.immutableId, message);
    return message;
  }

  find(id: string): FakeMessage | undefined {
    return this.byId.get(id);
  }

  remove(id: string): void {
    const message = this.byId.get(id);
    if (!message) return;
    this.messages = this.messages.filter((m) => m !== message);
    this.byId.delete(message.id);
    this.byId.delete(message.immutableId);
  }

  all(): FakeMessage[] {
    return [...this.messages];
  }

  /** Every delta and skip token issued so far becomes unknown: the next use answers 410. */
  expireDeltaTokens(): void {
    this.gen++;
  }

  /** A delta round's first page: from a deltatoken, or the whole Inbox (filtered) without one. */
  startDelta(input: { deltaToken?: string; since?: string | null }): DeltaState | "expired" {
    if (input.deltaToken) {
      const state = this.decode(input.deltaToken);
      if (!state) return "expired";
      return { ...state, after: state.upTo, upTo: this.seq, full: false };
    }
    return { gen: this.gen, since: input.since ?? null, after: 0, upTo: this.seq, full: true };
  }

  continueDelta(skipToken: string): DeltaState | "expired" {
    return this.decode(skipToken) ?? "expired";
  }

  page(state: DeltaState, pageSize: number): DeltaPage {
    const since = state.since ? Date.parse(state.since) : null;
    const pending = this.messages.filter(
      (m) => m.seq > state.after && m.seq <= state.upTo && (since === null || Date.parse(m.receivedDateTime) >= since),
    );
    const items = pending.slice(0, pageSize);
    if (pending.length > pageSize) {
      const last = items[items.length - 1]!;
      return { items, next: { kind: "skip", token: this.encode({ ...state, after: last.seq }) } };
    }
    return { items, next: { kind: "delta", token: this.encode({ ...state, after: state.upTo }) } };
  }

  private encode(state: DeltaState): string {
    return Buffer.from(JSON.stringify(state)).toString("base64url");
  }

  private decode(token: string): DeltaState | null {
    try {
      const state = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as DeltaState;
      return state.gen === this.gen ? state : null;
    } catch {
      return null;
    }
  }
}
