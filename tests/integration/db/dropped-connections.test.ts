// A backend terminated under mailgate (a failover, a pgbouncer restart, idle_session_timeout,
// pg_terminate_backend) must fail the statements it was running with an error their callers can
// catch, and the pool must go on. postgres.js 3.4.9 threw from a setImmediate instead when a
// transaction's ROLLBACK was written after its connection closed (patches/postgres+3.4.9.patch).
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { openDatabase, queryRows, sql } from "../../../src/db/client.ts";
import { isDatabaseUnavailable } from "../../../src/db/database-unavailable.ts";
import { createTestContext, type TestContext, usingPostgres } from "../../helpers/test-context.ts";

let t: TestContext;
let admin: postgres.Sql;
beforeAll(async () => {
  t = await createTestContext({ env: { DATABASE_POOL_SIZE: "4" } });
  admin = postgres(t.config.databaseUrl!, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await admin?.end();
  await t.close();
});

/**
 * A TCP proxy to the test server that resets the client's connection, as a server or a pooler
 * killed mid-statement does (the driver sees an error event, then the close), instead of passing
 * on the first chunk for which `resetOn` holds.
 */
async function startResettingProxy(resetOn: (chunk: Buffer) => boolean) {
  const target = new URL(t.config.databaseUrl!);
  let resets = 0;
  const proxy = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    client.on("data", (chunk: Buffer) => {
      if (resets === 0 && resetOn(chunk)) {
        resets++;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    for (const s of [client, upstream]) s.on("error", () => (client.destroy(), upstream.destroy()));
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const url = new URL(t.config.databaseUrl!);
  url.hostname = "127.0.0.1";
  url.port = String((proxy.address() as AddressInfo).port);
  return { url: url.toString(), resets: () => resets, close: () => proxy.close() };
}

/** What `promise` settled to (its value or its error), or "no answer" after `ms`. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([promise.catch((err: unknown) => err), new Promise((r) => setTimeout(() => r("no answer"), ms))]);
}

const terminateBackendsRunning = async (marker: string, count = 1) => {
  // Wait until the statement is on the server, then end its backend the way an operator would.
  await expect
    .poll(async () => (await admin`select count(*)::int as n from pg_stat_activity where query like ${`%${marker}%`} and pid <> pg_backend_pid()`)[0]!.n, { timeout: 5_000, interval: 20 })
    .toBeGreaterThanOrEqual(count);
  await admin`select pg_terminate_backend(pid) from pg_stat_activity where query like ${`%${marker}%`} and pid <> pg_backend_pid()`;
};

describe.runIf(usingPostgres())("dropped database connections", () => {
  it("When the backend of an open transaction is terminated, then the transaction rejects with CONNECTION_CLOSED and the process goes on", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => void uncaught.push(err);
    process.on("uncaughtException", onUncaught);
    try {
      for (let round = 0; round < 3; round++) {
        const marker = `dropped_tx_probe_${round}`;
        const running = t.ctx.db.transaction(async (tx) => {
          await tx.execute(sql.raw(`select pg_sleep(5) as ${marker}`));
        });
        const settled = running.then(
          () => "committed",
          (err: unknown) => err,
        );
        await terminateBackendsRunning(marker);
        const outcome = await settled;
        expect(outcome).toBeInstanceOf(Error);
        // The ROLLBACK that follows the failed statement is written on the closed connection.
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });

  it("When backends were terminated mid-transaction, then every connection of the pool answers again", async () => {
    // A connection whose socket died with a write still buffered kept a stale write timer and
    // never flushed again: its next statement (even its start-up message) waited forever.
    const marker = "dropped_pool_probe";
    const inFlight = Array.from({ length: 4 }, (_, i) =>
      t.ctx.db.transaction(async (tx) => void (await tx.execute(sql.raw(`select pg_sleep(5) as ${marker}_${i}`)))).catch((err: unknown) => err),
    );
    await terminateBackendsRunning(marker, 4);
    await Promise.all(inFlight);
    const answers = await Promise.race([
      Promise.all(
        Array.from({ length: 8 }, () => t.ctx.db.transaction(async (tx) => (await queryRows<{ ok: number }>(tx, sql`select 1 as ok, pg_sleep(0.05)`))[0]!.ok)),
      ),
      new Promise<"timed out">((r) => setTimeout(() => r("timed out"), 15_000)),
    ]);
    expect(answers).toEqual(Array.from({ length: 8 }, () => 1));
  });

  it("When a new connection drops while it reads the server's array types, then nothing is left unhandled and the next connection works", async () => {
    // postgres.js reads the array types right after start-up, in a promise nobody awaited.
    const proxy = await startResettingProxy((chunk) => chunk.includes("typcategory"));
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => void unhandled.push(err);
    process.on("unhandledRejection", onUnhandled);
    const database = await openDatabase({ databaseUrl: proxy.url, dataDir: "", poolSize: 1 });
    try {
      // The statement that opened the connection fails with it, as any statement on a reset
      // connection does; the point is what is left behind.
      await database.ping(5_000).catch((err: unknown) => expect(isDatabaseUnavailable(err)).toBe(true));
      await new Promise((r) => setTimeout(r, 100));
      expect(proxy.resets()).toBe(1);
      expect(unhandled).toEqual([]);
      // The types were read again on the next connection: an array comes back as an array.
      expect((await queryRows<{ a: number[] }>(database.db, sql`select array[1, 2]::int[] as a`))[0]!.a).toEqual([1, 2]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      await database.close();
      proxy.close();
    }
  });

  it("When a statement is sent on a connection that was reset and has not closed yet, then it fails as the reset statement did and the connection answers again", async () => {
    // A reset reaches the driver as an error event, and the close follows later in the same turn
    // of the event loop. Meanwhile a caller whose statement the reset failed may send the next
    // one (the dispatcher claims again when an attempt ends): with every connection busy, the
    // pool hands it to this one. It waited forever, and the connection, once reopened, waited
    // for its answer and was never given back to the pool.
    const proxy = await startResettingProxy((chunk) => chunk.includes("reset_probe"));
    const database = await openDatabase({ databaseUrl: proxy.url, dataDir: "", poolSize: 1 });
    try {
      await database.ping(5_000);
      let next: Promise<unknown> = Promise.resolve("not sent");
      const cut = queryRows(database.db, sql`select 1 as reset_probe`).catch((err: unknown) => {
        next = queryRows(database.db, sql`select 2 as sent_after_the_reset`);
        return err;
      });
      expect(isDatabaseUnavailable(await cut)).toBe(true);
      const after = await settledWithin(next, 5_000);
      expect(isDatabaseUnavailable(after), `the statement sent after the reset settled to: ${String(after)}`).toBe(true);
      // The one connection of the pool opens again and is given back after each statement.
      for (const n of [3, 4]) {
        expect(await settledWithin(queryRows<{ n: number }>(database.db, sql`select ${n}::int as n`).then((rows) => rows[0]), 5_000)).toEqual({ n });
      }
      expect(proxy.resets()).toBe(1);
    } finally {
      await database.close();
      proxy.close();
    }
  });
});
