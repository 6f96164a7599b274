// Two real mailgate processes on one real Postgres, one IMAP source on a real Dovecot, one webhook
// receiver on loopback: every email becomes one ticket and one ticket.created delivery, whichever
// instance's workers take it, and when the instance holding the IMAP lease dies (SIGKILL), the
// other one takes the source over and nothing is lost.
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ImapFlow } from "imapflow";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithDovecot } from "../../fakes/dovecot/describe-with-dovecot.ts";
import { startDovecot, type DovecotServer, type TestAccount } from "../../fakes/dovecot/dovecot-server.ts";
import { startMailgateProcess, type MailgateProcess } from "../../helpers/mailgate-process.ts";
import { createTestDatabase, usingPostgres } from "../../helpers/test-context.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { waitFor } from "../imap/imap-fixture.ts";
import { shardOf } from "../../../src/scheduler/shards.ts";

const EMAILS = 500;
const TAKEOVER_LIMIT_MS = 30_000;
const TOKEN = "scale-test-admin-token-0123456789";

type Receipt = { webhookId: string; messageId: string; at: number };

/** Records every ticket.created it is sent and answers 200. */
async function startReceiver() {
  const receipts: Receipt[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data: { message: { messageId: string } } };
      receipts.push({ webhookId: String(req.headers["webhook-id"]), messageId: body.data.message.messageId, at: Date.now() });
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    receipts,
    webhookIds: () => new Set(receipts.map((r) => r.webhookId)),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describeWithDovecot("several mailgate instances on one Postgres", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let dovecot: DovecotServer | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  let db: postgres.Sql | undefined;
  let instances: MailgateProcess[] = [];
  let account: TestAccount;
  const sent: string[] = [];

  beforeAll(async () => {
    if (!usingPostgres()) return;
    database = await createTestDatabase();
    dovecot = await startDovecot({ accounts: 1 });
    receiver = await startReceiver();
    const env = {
      DATABASE_URL: database.url!,
      ADMIN_API_TOKEN: TOKEN,
      MAILGATE_SECRET_KEY: randomBytes(32).toString("hex"),
      WEBHOOK_ALLOW_HTTP: "true",
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      WEBHOOK_RETRY_SCHEDULE: "0,1,1,2,2,2,2,2",
      WEBHOOK_TIMEOUT_MS: "5000",
    };
    instances = await Promise.all(["a", "b"].map((name) => startMailgateProcess(name, env)));
    await Promise.all(instances.map((i) => i.waitReady()));
    db = postgres(database.url!, { max: 2, onnotice: () => {} });

    const api = apiOf(instances[0]!);
    await api("/api/companies", { name: "Acme Corporation", domains: ["acme.com"] });
    await api("/api/webhooks", { url: receiver.url, events: ["ticket.created"] });
    account = dovecot.takeAccount();
    const imap = { host: dovecot.host, port: dovecot.port, security: "none", user: account.user, password: account.password };
    await api("/api/sources", { kind: "imap", name: "Support inbox", address: account.user, role: "system", imap });
    await waitFor("the IMAP source to connect", async () => (await db!`select status from mail_sources`)[0]?.status === "connected", 30_000);
  });

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await db?.end();
    await receiver?.close();
    await dovecot?.stop();
    await database?.drop();
  });

  const apiOf = (instance: MailgateProcess) => async (path: string, body: unknown) => {
    const res = await fetch(`${instance.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as { id: string };
  };

  /** Appends `count` emails, each with a Message-ID of its own, and remembers them. */
  const append = async (mail: ImapFlow, count: number) => {
    for (let i = 0; i < count; i++) {
      const id = `scale-${sent.length}-${randomBytes(4).toString("hex")}@acme.com`;
      await mail.append("INBOX", buildEmail({ subject: `Scale ${sent.length}`, messageId: `<${id}>` }));
      sent.push(id);
    }
  };

  const ticketsPerMessageId = async () => {
    const rows = await db!<{ message_id: string; n: string }[]>`
      select message_id, count(distinct ticket_id) as n from ticket_messages group by message_id`;
    return new Map(rows.map((r) => [r.message_id, Number(r.n)]));
  };
  const ticketCount = async () => Number((await db!`select count(*) as n from tickets`)[0]!.n);
  const says = () => instances.map((i) => `--- ${i.name} (pid ${i.pid}) ---\n${i.output()}`).join("\n");

  /** Every sent email has exactly one ticket and one ticket.created event (one webhook-id). */
  const expectEachEmailOnce = async () => {
    const perMessageId = await ticketsPerMessageId();
    expect(await ticketCount()).toBe(sent.length);
    expect(sent.filter((id) => perMessageId.get(id) !== 1)).toEqual([]);
    const idsPerMessage = new Map<string, Set<string>>();
    for (const r of receiver!.receipts) idsPerMessage.set(r.messageId, (idsPerMessage.get(r.messageId) ?? new Set()).add(r.webhookId));
    expect(sent.filter((id) => idsPerMessage.get(id)?.size !== 1)).toEqual([]);
    expect(receiver!.webhookIds().size).toBe(sent.length);
  };

  it.runIf(usingPostgres())(
    "When 500 emails arrive at one IMAP source watched by two instances, then there are 500 tickets and 500 ticket.created deliveries, none twice",
    async () => {
      const mail = await dovecot!.connect(account.user, account.password);
      await append(mail, EMAILS);
      await mail.logout();

      await waitFor(`${EMAILS} tickets`, async () => (await ticketCount()) >= EMAILS, 180_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${says()}`);
      });
      await waitFor(`${EMAILS} deliveries`, async () => receiver!.receipts.length >= EMAILS, 120_000);
      await new Promise((r) => setTimeout(r, 2_000)); // a second ticket or delivery would show by now

      await expectEachEmailOnce();
      expect(receiver!.receipts).toHaveLength(EMAILS);
    },
    330_000,
  );

  it.runIf(usingPostgres())(
    "When the instance holding the IMAP source's shard lease is killed with SIGKILL mid-stream, then the other takes the source over within 30 s and every email becomes exactly one ticket and one delivered event",
    async () => {
      // The source is held through the lease of its shard, by whichever instance the split gives it.
      const sourceId = (await db!<{ id: string }[]>`select id from mail_sources`)[0]!.id;
      const lease = `sources:imap:shard:${shardOf(sourceId)}`;
      const holderOf = async () => (await db!<{ holder: string }[]>`select holder from leases where name = ${lease} and expires_at > now()`)[0]?.holder;
      const holder = await holderOf();
      const pid = Number(/:(\d+):[0-9a-f]+$/.exec(holder ?? "")?.[1]);
      const victim = instances.find((i) => i.pid === pid);
      const survivor = instances.find((i) => i.pid !== pid)!;
      expect(victim, `the lease holder ${holder} is one of the two instances`).toBeDefined();

      const mail = await dovecot!.connect(account.user, account.password);
      await append(mail, 200);
      await victim!.kill();
      const killedAt = Date.now();
      await append(mail, 150); // while nobody holds the source

      const newHolder = await waitFor("another instance to take the IMAP lease", async () => {
        const h = await holderOf();
        return h !== undefined && h !== holder && h;
      }, TAKEOVER_LIMIT_MS + 5_000);
      const takeoverMs = Date.now() - killedAt;
      expect(newHolder).toMatch(new RegExp(`:${survivor.pid}:`));
      expect(takeoverMs).toBeLessThan(TAKEOVER_LIMIT_MS);
      await append(mail, EMAILS - 350); // to the survivor's IDLE connection
      await mail.logout();

      const total = 2 * EMAILS;
      await waitFor(`${total} tickets`, async () => (await ticketCount()) >= total, 180_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${says()}`);
      });
      // Deliveries the dead instance had claimed come due when their lease (timeout + 60 s) runs out.
      await waitFor(`${total} distinct deliveries`, async () => receiver!.webhookIds().size >= total, 120_000);
      await new Promise((r) => setTimeout(r, 2_000));

      await expectEachEmailOnce();
      // At-least-once: only a delivery the dead instance had on the wire when it died may come
      // again, with the same webhook-id, from the survivor.
      const firstSeen = new Map<string, number>();
      const again: Receipt[] = [];
      for (const r of receiver!.receipts) {
        if (firstSeen.has(r.webhookId)) again.push(r);
        else firstSeen.set(r.webhookId, r.at);
      }
      expect(again.filter((r) => firstSeen.get(r.webhookId)! > killedAt + 1_000)).toEqual([]);
      console.info(`takeover after the SIGKILL: ${takeoverMs} ms; deliveries sent again after the crash: ${again.length}`);
      expect(survivor.running()).toBe(true);
    },
    330_000,
  );
});
