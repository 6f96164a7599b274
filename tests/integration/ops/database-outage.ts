// A test context whose database can be made to stop answering, without stopping the Postgres
// server other test files share. On Postgres the context connects through a TCP proxy on
// loopback: stopping closes the proxy and cuts every connection, so mailgate sees exactly what a
// stopped server looks like (connections reset, new ones refused); starting listens again on the
// same port. On PGlite the embedded database is closed (it cannot come back).
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { createTestContext, createTestDatabase, type TestContext } from "../../helpers/test-context.ts";

export type Outage = {
  t: TestContext;
  /** Whether startDatabase can bring it back (Postgres through the proxy; not PGlite). */
  canRestart: boolean;
  stopDatabase(): Promise<void>;
  startDatabase(): Promise<void>;
  /** Postgres only: connections stay open but nothing comes back, as from a host that vanished. */
  silenceDatabase(): void;
  close(): Promise<void>;
};

export async function createOutageContext(env: Record<string, string> = {}): Promise<Outage> {
  const database = await createTestDatabase();
  if (!database.url) {
    // Our own data dir: after a stop, t.close() fails on the closed database before it would remove it.
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "mailgate-outage-"));
    const t = await createTestContext({ env, dataDir });
    let stopped = false;
    return {
      t,
      canRestart: false,
      stopDatabase: async () => {
        stopped = true;
        await t.ctx.database.close();
      },
      startDatabase: () => Promise.reject(new Error("an embedded PGlite database cannot be reopened once closed")),
      silenceDatabase: () => {
        throw new Error("an embedded PGlite database cannot be silenced");
      },
      close: async () => {
        await t.close().catch((err: unknown) => {
          if (!stopped) throw err;
        });
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const target = new URL(database.url);
  const proxy = await startProxy(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(database.url);
  viaProxy.hostname = "127.0.0.1";
  viaProxy.port = String(proxy.port);
  const t = await createTestContext({ env, databaseUrl: viaProxy.toString() });
  return {
    t,
    canRestart: true,
    stopDatabase: () => proxy.stop(),
    startDatabase: () => proxy.start(),
    silenceDatabase: () => proxy.silence(),
    close: async () => {
      await proxy.start();
      await t.close();
      await proxy.stop();
      await database.drop();
    },
  };
}

async function startProxy(host: string, port: number) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let listenPort = 0;
  let silent = false;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        const upstream = net.connect(port, host);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on("close", () => sockets.delete(sock));
          sock.on("error", () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.on("data", (chunk: Buffer) => void (silent || upstream.write(chunk)));
        upstream.on("data", (chunk: Buffer) => void (silent || client.write(chunk)));
      });
      s.once("error", reject);
      s.listen(listenPort, "127.0.0.1", () => {
        listenPort = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });
  await listen();
  return {
    port: listenPort,
    start: async () => {
      silent = false;
      if (!server) await listen();
    },
    silence: () => {
      silent = true;
    },
    stop: async () => {
      const s = server;
      if (!s) return;
      server = null;
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
