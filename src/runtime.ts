// Starts the background parts an instance runs for its roles, and stops them in reverse order.
// Workers and the dispatcher claim with SKIP LOCKED and run on every instance. IMAP mailboxes are
// split across the instances with the sources role by shard leases (scheduler/shards.ts), so more
// instances hold more connections; Gmail and Graph sources, whose work is mostly durable requests
// any instance could run, are held a whole kind per lease (scheduler/leased.ts), so every Pub/Sub
// pull, sync run and renewal has one owner.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Context } from "./context.ts";
import { startPipelineWorkers } from "./pipeline/worker.ts";
import { startDispatcher } from "./delivery/dispatcher.ts";
import { startOutboxSender } from "./outbound/outbox-sender.ts";
import { startRetention } from "./scheduler/retention.ts";
import { runLeased } from "./scheduler/leased.ts";
import { runSharded, shardOf } from "./scheduler/shards.ts";
import { startGmailSources } from "./sources/gmail/runtime.ts";
import { startGraphSources } from "./sources/graph/runtime.ts";
import { startImapSources } from "./sources/imap/imap-sources.ts";
import { startFailureAnnouncer } from "./sources/failure-announcer.ts";
import { startRenewals } from "./scheduler/renewals.ts";
import { runSmtpListener } from "./sources/smtp/runtime.ts";
import { startSmtpStatusKeeper } from "./sources/smtp/listener-presence.ts";

export type Runtime = { stop(): Promise<void> };

/** This process as a lease holder: host and pid say which process holds what; the random part tells a restart apart. */
export const newInstanceId = (): string => `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;

export function startRuntime(ctx: Context): Runtime {
  const parts: Runtime[] = [];
  const roles = ctx.config.roles;
  if (roles.includes("worker")) {
    parts.push(startPipelineWorkers(ctx));
    parts.push(startDispatcher(ctx));
    parts.push(startOutboxSender(ctx));
    parts.push(startRetention(ctx));
  }
  if (roles.includes("sources")) {
    const holder = newInstanceId();
    ctx.log.info({ instance: holder }, "sources start on the instance that holds their lease (sources:gmail, sources:graph, renewals; IMAP mailboxes by shard)");
    parts.push(runLeased(ctx, { name: "sources:gmail", holder, start: () => startGmailSources(ctx) }));
    parts.push(runLeased(ctx, { name: "sources:graph", holder, start: () => startGraphSources(ctx) }));
    parts.push(startSharedImapSources(ctx, holder));
    parts.push(runLeased(ctx, { name: "renewals", holder, start: () => startRenewals(ctx) }));
    // Not leased: whichever instance looks first announces a failure, under its row's lock.
    parts.push(startFailureAnnouncer(ctx));
    // Not leased either: the listener keeps no state but its sources' addresses, so every
    // instance with this role listens, behind MX records or a TCP load balancer.
    // Without one here, this instance still keeps the smtp sources' status honest (listener-presence.ts).
    parts.push(ctx.config.smtpListener ? runSmtpListener(ctx, ctx.config.smtpListener) : startSmtpStatusKeeper(ctx));
  }
  return {
    stop: async () => {
      for (const part of parts.reverse()) await part.stop();
    },
  };
}

/** The IMAP mailboxes whose shards this instance holds, among every instance with the sources role. */
function startSharedImapSources(ctx: Context, holder: string): Runtime {
  let held: ReadonlySet<number> = new Set();
  const imap = startImapSources(ctx, { owns: (sourceId) => held.has(shardOf(sourceId)) });
  const shards = runSharded(ctx, {
    name: "sources:imap",
    holder,
    // The lease by which earlier versions held every IMAP source.
    wholeLease: "sources:imap",
    onChange: async (owned) => {
      held = owned;
      await imap.refresh();
    },
  });
  return {
    stop: async () => {
      await shards.stop();
      await imap.stop();
    },
  };
}
