// A named lease in the leases table: the single owner of periodic work across instances. Taken
// when free or expired, kept by renewing it before it runs out; a dead holder's lease lapses.
import { and, eq, sql } from "drizzle-orm";
import { queryRows, type Executor } from "../../db/client.js";
import { leases } from "../../db/schema.js";

export async function holdLease(executor: Executor, input: { name: string; holder: string; now: Date; ttlMs: number }): Promise<boolean> {
  const expiresAt = new Date(input.now.getTime() + input.ttlMs).toISOString();
  const rows = await queryRows<{ name: string }>(
    executor,
    sql`insert into leases (name, holder, expires_at) values (${input.name}, ${input.holder}, ${expiresAt}::timestamptz)
        on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
         where leases.holder = excluded.holder or leases.expires_at < ${input.now.toISOString()}::timestamptz
        returning name`,
  );
  return rows.length > 0;
}

export async function releaseLease(executor: Executor, name: string, holder: string): Promise<void> {
  await executor.delete(leases).where(and(eq(leases.name, name), eq(leases.holder, holder)));
}
