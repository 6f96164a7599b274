// Single-owner work across instances (an IMAP IDLE connection, a renewal run): a lease row that its
// holder renews while alive. When the holder dies, the lease runs out and another instance takes it.
import { sql } from "drizzle-orm";
import { queryRows, type Executor } from "../db/client.ts";

export const LEASE_TTL_MS = 20_000;
export const LEASE_RENEW_MS = 5_000;

/** Takes the lease if it is free, expired, or already ours; extends it. True when we hold it. */
export async function acquireLease(executor: Executor, name: string, holder: string, now: Date, ttlMs = LEASE_TTL_MS): Promise<boolean> {
  const until = new Date(now.getTime() + ttlMs).toISOString();
  const rows = await queryRows<{ holder: string }>(
    executor,
    sql`insert into leases (name, holder, expires_at) values (${name}, ${holder}, ${until}::timestamptz)
        on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
         where leases.holder = excluded.holder or leases.expires_at < ${now.toISOString()}::timestamptz
        returning holder`,
  );
  return rows[0]?.holder === holder;
}

export async function releaseLease(executor: Executor, name: string, holder: string): Promise<void> {
  await executor.execute(sql`delete from leases where name = ${name} and holder = ${holder}`);
}
