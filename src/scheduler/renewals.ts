// Renews every push subscription (Gmail watches and Graph subscriptions) before it expires. It
// runs on the one instance holding the "renewals" lease (runtime.ts), beside the sources rather
// than inside either kind's runtime.
import type { Context } from "../context.ts";
import type { Runtime } from "../runtime.ts";
import { createRenewalBackoff, renewDueSubscriptions } from "../sources/renew-subscriptions.ts";
import { startPeriodicPass } from "./periodic-pass.ts";

export const RENEWAL_PASS_EVERY_MS = 30_000;

export function startRenewals(ctx: Context, opts: { everyMs?: number } = {}): Runtime {
  const backoff = createRenewalBackoff();
  return startPeriodicPass(ctx, { name: "renewal", everyMs: opts.everyMs ?? RENEWAL_PASS_EVERY_MS, pass: () => renewDueSubscriptions(ctx, backoff) });
}
