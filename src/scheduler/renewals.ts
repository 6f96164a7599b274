// Renews every push subscription (Gmail watches and Graph subscriptions) before it expires. It
// runs on the one instance holding the "renewals" lease (runtime.ts), beside the sources rather
// than inside either kind's runtime.
import type { Context } from "../context.ts";
import type { Runtime } from "../runtime.ts";
import { createRenewalBackoff, renewDueSubscriptions } from "../sources/renew-subscriptions.ts";

export const RENEWAL_PASS_EVERY_MS = 30_000;

export function startRenewals(ctx: Context, opts: { everyMs?: number } = {}): Runtime {
  const everyMs = opts.everyMs ?? RENEWAL_PASS_EVERY_MS;
  const backoff = createRenewalBackoff();
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();

  const schedule = (ms: number) => {
    if (!running) return;
    timer = setTimeout(() => {
      current = renewDueSubscriptions(ctx, backoff)
        .catch((err: unknown) => void (ctx.databaseOutage.report(err) || ctx.log.error({ err }, "the renewal pass failed; it runs again shortly")))
        .finally(() => schedule(everyMs));
    }, ms);
  };
  schedule(0);

  return {
    stop: async () => {
      running = false;
      clearTimeout(timer);
      await current;
    },
  };
}
