// saveToSent against a real Dovecot: where the copy of a sent message lands, that it is marked
// read and whole, and that every failure is a value that names what to fix.
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildOutboundMime } from "../../../src/outbound/build-message.ts";
import { appendToSent, type SentCopy } from "../../../src/sources/imap/save-to-sent.ts";
import { describeWithDovecot } from "../../fakes/dovecot/describe-with-dovecot.ts";
import { startDovecot, type DovecotServer, type TestAccount } from "../../fakes/dovecot/dovecot-server.ts";

/** The loop header value mailgate would write (outbound/loop-token.ts). */
const LOOP_TOKEN = "test-loop-token";

describeWithDovecot("appendToSent", () => {
  let dovecot: DovecotServer;
  let raw: Buffer;
  beforeAll(async () => {
    // "Outbox Copies" is no usual name for a Sent folder: only the server's \Sent flag can point to it.
    dovecot = await startDovecot({ accounts: 6, specialUse: { "Outbox Copies": "\\Sent" } });
    raw = await buildOutboundMime({
      messageId: "<mailgate.copy1@mailgate.test>",
      from: { address: "support1@mailgate.test", name: "MSP Support" },
      to: [{ address: "john@acme.com" }],
      subject: "Re: [Ticket #7] Printer",
      text: "Fixed.",
      thread: ["root@acme.com"],
      attachments: [],
      automatic: false,
      date: new Date("2026-12-06T10:00:00Z"),
    }, LOOP_TOKEN);
  });
  afterAll(async () => dovecot?.stop());

  const copyFor = (account: TestAccount, overrides: Partial<SentCopy> = {}): SentCopy => ({
    imap: { config: { host: "127.0.0.1", port: dovecot.port, security: "none", user: account.user }, password: account.password },
    raw,
    ...overrides,
  });

  /** The folders of the account, and each message of `folder` with its flags and Message-ID. */
  async function mailbox(account: TestAccount, folder: string) {
    const client = await dovecot.connect(account.user, account.password);
    try {
      const folders = (await client.list()).map((f) => f.path).sort();
      if (!folders.includes(folder)) return { folders, messages: [] };
      await client.mailboxOpen(folder, { readOnly: true });
      const messages = [];
      for await (const m of client.fetch("1:*", { flags: true, source: true })) {
        // \Recent only says this session is the first to see it.
        messages.push({ flags: [...(m.flags ?? [])].filter((f) => f !== "\\Recent"), messageId: (await simpleParser(m.source!)).messageId, bytes: m.source!.length });
      }
      return { folders, messages };
    } finally {
      await client.logout();
    }
  }

  it("When the server flags a folder \\Sent, then the copy lands there, marked \\Seen and whole", async () => {
    const account = dovecot.takeAccount();
    const setup = await dovecot.connect(account.user, account.password);
    await setup.mailboxCreate("Outbox Copies");
    await setup.logout();

    const outcome = await appendToSent(copyFor(account));
    expect(outcome).toEqual({ ok: true, folder: "Outbox Copies", uid: 1 });
    const { messages } = await mailbox(account, "Outbox Copies");
    expect(messages).toEqual([{ flags: ["\\Seen"], messageId: "<mailgate.copy1@mailgate.test>", bytes: raw.length }]);
  });

  it("When no folder is flagged but one has a usual Sent name, then the copy lands in it", async () => {
    const account = dovecot.takeAccount();
    const setup = await dovecot.connect(account.user, account.password);
    await setup.mailboxCreate("Sent Items");
    await setup.logout();

    expect(await appendToSent(copyFor(account))).toMatchObject({ ok: true, folder: "Sent Items" });
    expect((await mailbox(account, "Sent Items")).messages).toHaveLength(1);
  });

  it("When the mailbox has no Sent folder at all, then \"Sent\" is created and holds the copy", async () => {
    const account = dovecot.takeAccount();
    expect(await appendToSent(copyFor(account))).toMatchObject({ ok: true, folder: "Sent" });
    const { folders, messages } = await mailbox(account, "Sent");
    expect(folders).toEqual(["INBOX", "Sent"]);
    expect(messages).toMatchObject([{ flags: ["\\Seen"] }]);
  });

  it("When the configured folder exists, then the copy lands there, whatever the server flags", async () => {
    const account = dovecot.takeAccount();
    const setup = await dovecot.connect(account.user, account.password);
    await setup.mailboxCreate("Answered");
    await setup.logout();
    expect(await appendToSent(copyFor(account, { sentFolder: "Answered" }))).toMatchObject({ ok: true, folder: "Answered" });
    expect((await mailbox(account, "Answered")).messages).toHaveLength(1);
  });

  it("When the configured folder does not exist, then it answers missing_folder naming it, and creates nothing", async () => {
    const account = dovecot.takeAccount();
    const outcome = await appendToSent(copyFor(account, { sentFolder: "Snet" }));
    expect(outcome).toEqual({
      ok: false,
      code: "missing_folder",
      error: `The Sent folder "Snet" does not exist for user ${account.user} on 127.0.0.1:${dovecot.port}; correct smtp.sentFolder, or unset it to use the folder the server marks as Sent.`,
    });
    expect((await mailbox(account, "Snet")).folders).toEqual(["INBOX"]);
  });

  it("When the IMAP login is refused, then it answers auth with the server's words instead of throwing", async () => {
    const account = dovecot.takeAccount();
    const outcome = await appendToSent(copyFor(account, { imap: { ...copyFor(account).imap, password: "wrong" } }));
    expect(outcome).toMatchObject({ ok: false, code: "auth", error: expect.stringContaining("IMAP login failed") });
  });
});
