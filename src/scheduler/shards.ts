// Splits single-owner work (IMAP connections) across the instances that share one Postgres. The
// work is cut into a fixed number of shards, a source's shard being a hash of its id; each shard is
// held through a lease row of its own, and each instance takes the shards that rendezvous hashing
// over the live members gives it. Members announce themselves with a lease row too, so when an
// instance joins or dies the split changes within a lease time, and only the shards whose owner
// changed move: the others keep their connections.
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Context } from "../context.ts";
import { pgArray, queryRows } from "../db/client.ts";
import { LEASE_RENEW_MS } from "./leases.ts";

/** Enough that three or four instances get shares within about a tenth of each other. */
export const SHARDS = 256;
/**
 * Shorter than the kind leases' 20 s: a dead instance's mailboxes must be connected elsewhere
 * within 30 s, and reconnecting a few hundred of them at the gate's pace takes seconds of that.
 */
export const SHARD_TTL_MS = 15_000;

export type ShardedOptions = {
  /** Lease names are `<name>:shard:<n>` for the shards and `<name>:member:<holder>` for the members. */
  name: string;
  holder: string;
  /**
   * Told the shards held after every change. A shard given up is released only once this has
   * resolved, so the work on it must have stopped by then: no source is ever held twice.
   */
  onChange: (owned: ReadonlySet<number>) => Promise<void>;
  /**
   * A lease that once covered every shard (the whole-kind lease of earlier versions): while another
   * instance holds it, no shard is taken, so a rolling upgrade never holds a source twice.
   */
  wholeLease?: string;
  shards?: number;
  renewMs?: number;
  ttlMs?: number;
};

export type Sharded = {
  owned(): ReadonlySet<number>;
  stop(): Promise<void>;
};

/** A well-spread 32-bit number fixed by the text: the same on every instance and across restarts. */
export const hash32 = (text: string): number => createHash("sha256").update(text).digest().readUInt32BE(0);

/** The shard of a source (or any key): the same on every instance and across restarts. */
export function shardOf(key: string, shards = SHARDS): number {
  return hash32(key) % shards;
}

/**
 * The shards `holder` should hold among `members` (rendezvous hashing): each shard goes to the
 * member with the highest hash of (shard, member), so a member joining or leaving moves only the
 * shards it wins or held.
 */
export function assignShards(members: readonly string[], holder: string, shards = SHARDS): number[] {
  const mine: number[] = [];
  for (let shard = 0; shard < shards; shard++) {
    let best: string | null = null;
    let bestScore = -1;
    for (const member of members) {
      const score = hash32(`${shard}:${member}`);
      if (score > bestScore || (score === bestScore && best !== null && member < best)) [best, bestScore] = [member, score];
    }
    if (best === holder) mine.push(shard);
  }
  return mine;
}

export function runSharded(ctx: Context, opts: ShardedOptions): Sharded {
  const shards = opts.shards ?? SHARDS;
  const renewMs = opts.renewMs ?? LEASE_RENEW_MS;
  const ttlMs = opts.ttlMs ?? SHARD_TTL_MS;
  const log = ctx.log.child({ component: "shards", lease: opts.name });
  const memberPrefix = `${opts.name}:member:`;
  const shardName = (shard: number) => `${opts.name}:shard:${shard}`;
  let owned: ReadonlySet<number> = new Set();
  /** Until when the shards we hold are ours for sure: the expiry of our last successful renewal. */
  let heldUntil = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let busy: Promise<void> = Promise.resolve();

  const change = async (next: ReadonlySet<number>) => {
    const before = owned.size;
    owned = next;
    await opts.onChange(next);
    if (before !== next.size) log.info({ shards: next.size, of: shards }, "shards held changed");
  };

  const tick = async () => {
    const now = ctx.clock.now();
    const until = new Date(now.getTime() + ttlMs).toISOString();
    try {
      const members = await announce(ctx, memberPrefix, opts.holder, now, until);
      const wanted = new Set(assignShards(members, opts.holder, shards));
      const giveUp = [...owned].filter((s) => !wanted.has(s));
      if (giveUp.length > 0) {
        await change(new Set([...owned].filter((s) => wanted.has(s))));
        await release(ctx, giveUp.map(shardName), opts.holder);
      }
      const held = await acquire(ctx, [...wanted].map(shardName), opts.holder, now, until, opts.wholeLease ?? null);
      heldUntil = now.getTime() + ttlMs;
      const next = new Set([...wanted].filter((s) => held.has(shardName(s))));
      if (next.size !== owned.size || [...next].some((s) => !owned.has(s))) await change(next);
    } catch (err) {
      if (!ctx.databaseOutage.report(err)) log.warn({ err }, "renewing the shard leases failed");
      await stopIfExpiring();
    }
  };

  /** Another instance may take our shards once their leases run out: stop their work before that. */
  const stopIfExpiring = async () => {
    if (owned.size === 0 || ctx.clock.now().getTime() + renewMs < heldUntil) return;
    log.warn({ shards: owned.size }, "shard leases could not be renewed in time; stopping their work");
    await change(new Set());
  };
  // A renewal that hangs (a connection cut without a reset) must not keep the shards past expiry.
  const watchdog = setInterval(() => void stopIfExpiring().catch((err: unknown) => log.error({ err }, "stopping expiring shards failed")), renewMs);
  watchdog.unref();

  const loop = () => {
    busy = busy.then(tick).catch((err: unknown) => log.error({ err }, "shard pass failed"));
    void busy.then(() => {
      if (!stopped) timer = setTimeout(loop, renewMs);
    });
  };
  loop();

  return {
    owned: () => owned,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      clearInterval(watchdog);
      await busy;
      const held = [...owned].map(shardName);
      await change(new Set());
      await release(ctx, [...held, memberPrefix + opts.holder], opts.holder).catch(() => undefined);
    },
  };
}

/** Renews our member row and returns the live members; members that stopped renewing are removed. */
async function announce(ctx: Context, prefix: string, holder: string, now: Date, until: string): Promise<string[]> {
  await ctx.db.execute(
    sql`insert into leases (name, holder, expires_at) values (${prefix + holder}, ${holder}, ${until}::timestamptz)
        on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at`,
  );
  await ctx.db.execute(sql`delete from leases where left(name, ${prefix.length}) = ${prefix} and expires_at < ${now.toISOString()}::timestamptz`);
  const rows = await queryRows<{ holder: string }>(ctx.db, sql`select holder from leases where left(name, ${prefix.length}) = ${prefix}`);
  return rows.map((r) => r.holder);
}

/**
 * Takes or renews the named leases that are free, expired or ours, in one statement; returns the
 * names now held. Rows are locked in name order, so instances asking at once cannot deadlock.
 */
async function acquire(ctx: Context, names: string[], holder: string, now: Date, until: string, wholeLease: string | null): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const at = now.toISOString();
  const rows = await queryRows<{ name: string }>(
    ctx.db,
    sql`insert into leases (name, holder, expires_at)
        select n, ${holder}, ${until}::timestamptz from unnest(${pgArray(names)}::text[]) as n
         where not exists (select 1 from leases w where w.name = ${wholeLease} and w.holder <> ${holder} and w.expires_at > ${at}::timestamptz)
         order by n
        on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
         where leases.holder = excluded.holder or leases.expires_at < ${at}::timestamptz
        returning name`,
  );
  return new Set(rows.map((r) => r.name));
}

async function release(ctx: Context, names: string[], holder: string): Promise<void> {
  if (names.length === 0) return;
  await ctx.db.execute(sql`delete from leases where name = any(${pgArray(names)}::text[]) and holder = ${holder}`);
}
