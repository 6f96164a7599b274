// Runs a part only while this instance holds its lease: tries to take it, starts the part when it
// does, renews it while alive, and stops the part at once when the lease is lost (another instance
// took over after our renewals failed). Takeover after a crash: within LEASE_TTL_MS + LEASE_RENEW_MS.
import type { Context } from "../context.ts";
import type { Runtime } from "../runtime.ts";
import { acquireLease, LEASE_RENEW_MS, LEASE_TTL_MS, releaseLease } from "./leases.ts";

export type LeasedOptions = { name: string; holder: string; start: () => Runtime | Promise<Runtime>; renewMs?: number; ttlMs?: number };

export function runLeased(ctx: Context, opts: LeasedOptions): Runtime & { holding(): boolean } {
  let part: Runtime | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let busy: Promise<void> = Promise.resolve();
  const renewMs = opts.renewMs ?? LEASE_RENEW_MS;
  const ttlMs = opts.ttlMs ?? LEASE_TTL_MS;

  const stopPart = async () => {
    const running = part;
    part = null;
    if (running) await running.stop();
  };

  const tick = async () => {
    if (stopped) return;
    let held = false;
    try {
      held = await acquireLease(ctx.db, opts.name, opts.holder, ctx.clock.now(), ttlMs);
    } catch (err) {
      // Without the database we cannot prove we still own the lease: stop, as the others will take it.
      if (!ctx.databaseOutage.report(err)) ctx.log.warn({ err, lease: opts.name }, "lease renewal failed");
    }
    if (held && !part && !stopped) {
      ctx.log.info({ lease: opts.name, holder: opts.holder }, "lease taken; starting");
      part = await opts.start();
    } else if (!held && part) {
      ctx.log.warn({ lease: opts.name }, "lease lost; stopping");
      await stopPart();
    }
  };

  const loop = () => {
    busy = busy.then(tick).catch((err: unknown) => {
      if (!ctx.databaseOutage.report(err)) ctx.log.error({ err, lease: opts.name }, "leased part failed to start");
    });
    void busy.then(() => {
      if (!stopped) timer = setTimeout(loop, renewMs);
    });
  };
  loop();

  return {
    holding: () => part !== null,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await busy;
      const had = part !== null;
      await stopPart();
      if (had) await releaseLease(ctx.db, opts.name, opts.holder).catch(() => undefined);
    },
  };
}
