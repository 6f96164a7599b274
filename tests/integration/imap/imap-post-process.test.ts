// Post-processing on the server, after the message is stored: nothing, \Seen, or a move.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ImapConfig } from "../../../src/sources/source-config.ts";
import { imapSourceOf } from "../../../src/sources/imap/imap-source.ts";
import { startImapSupervisor, type ImapSupervisor } from "../../../src/sources/imap/imap-supervisor.ts";
import { describeWithDovecot } from "../../fakes/dovecot/describe-with-dovecot.ts";
import { startDovecot, type DovecotServer } from "../../fakes/dovecot/dovecot-server.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { inboundOf, insertImapSource, newMailboxUser, sourceRow, waitFor, type MailboxUser } from "./imap-fixture.ts";

describeWithDovecot("IMAP post-processing", () => {
  let dovecot: DovecotServer;
  let t: TestContext;
  const supervisors: ImapSupervisor[] = [];

  beforeAll(async () => {
    dovecot = await startDovecot();
    t = await createTestContext();
  });
  afterAll(async () => {
    await Promise.all(supervisors.map((s) => s.stop()));
    await t?.close();
    await dovecot?.stop();
  });

  /** Starts a source with `postProcess`, appends one message and waits until it is stored. */
  const ingestOne = async (postProcess: ImapConfig["postProcess"]): Promise<MailboxUser> => {
    const account = newMailboxUser(dovecot);
    const sourceId = await insertImapSource(t.ctx, dovecot, account, { postProcess });
    supervisors.push(startImapSupervisor(t.ctx, imapSourceOf(t.ctx, await sourceRow(t.ctx, sourceId))));
    const mail = await dovecot.connect(account.user, account.password);
    await mail.append("INBOX", buildEmail({ messageId: "<post@acme.com>" }));
    await mail.logout();
    await waitFor("the message to be stored", async () => (await inboundOf(t.ctx, sourceId)).length === 1);
    return account;
  };

  const flagsIn = async (account: MailboxUser, folder: string) => {
    const mail = await dovecot.connect(account.user, account.password);
    try {
      await mail.mailboxOpen(folder, { readOnly: true });
      if (mail.mailbox && mail.mailbox.exists === 0) return [];
      return (await mail.fetchAll("1:*", { uid: true, flags: true, envelope: true })).map((m) => ({
        flags: [...(m.flags ?? [])].filter((f) => f !== "\\Recent"),
        messageId: m.envelope?.messageId,
      }));
    } finally {
      await mail.logout();
    }
  };

  it("When post-processing is none, then the message stays unread on the server (mailgate only peeks)", async () => {
    const account = await ingestOne({ action: "none" });
    await new Promise((r) => setTimeout(r, 300));
    expect(await flagsIn(account, "INBOX")).toEqual([{ flags: [], messageId: "<post@acme.com>" }]);
  });

  it("When post-processing is mark_seen, then the stored message is flagged \\Seen on the server", async () => {
    const account = await ingestOne({ action: "mark_seen" });
    await waitFor("the \\Seen flag", async () => (await flagsIn(account, "INBOX"))[0]?.flags.includes("\\Seen"));
  });

  it("When post-processing is move, then the stored message leaves INBOX for the folder, which is created if missing", async () => {
    const account = await ingestOne({ action: "move", folder: "Processed" });
    await waitFor("the move", async () => (await flagsIn(account, "INBOX")).length === 0);
    expect(await flagsIn(account, "Processed")).toEqual([{ flags: [], messageId: "<post@acme.com>" }]);
  });
});
