// A TCP proxy in front of Postgres that a test can cut, as a network failure would, and restore.
import net, { type AddressInfo, type Socket } from "node:net";

export type CuttableProxy = Awaited<ReturnType<typeof startCuttableProxy>>;

/**
 * A TCP proxy to Postgres that can be cut (every connection reset, new ones refused), frozen (bytes
 * stop flowing and nothing says so, as when a network path dies silently) and restored.
 */
export async function startCuttableProxy(target: URL) {
  const open = new Set<Socket>();
  let cut = false;
  let frozen = false;
  const proxy = net.createServer((client) => {
    if (cut) return client.resetAndDestroy();
    if (frozen) return void open.add(client);
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    open.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) {
      s.on("error", () => (client.destroy(), upstream.destroy()));
      s.on("close", () => open.delete(s));
    }
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String((proxy.address() as AddressInfo).port);
  return {
    url: url.toString(),
    cut: () => {
      cut = true;
      for (const s of open) s.resetAndDestroy();
    },
    freeze: () => {
      frozen = true;
      for (const s of open) {
        s.unpipe();
        s.pause();
      }
    },
    /** Ends a cut or a freeze; frozen connections are reset then, so their clients connect again. */
    restore: () => {
      if (frozen) for (const s of open) s.resetAndDestroy();
      cut = false;
      frozen = false;
    },
    close: () => proxy.close(),
  };
}
