// users.watch on the INBOX to the configured Pub/Sub topic, and its row in push_subscriptions
// (external id: the mailbox address, as Gmail keeps one watch per mailbox). users.stop ends it.
import { sql } from "drizzle-orm";
import type { Context } from "../../context.ts";
import type { Executor } from "../../db/client.ts";
import { classifyGmailError, type GmailFailure } from "./gmail-failure.ts";
import type { GmailSession } from "./gmail-session.ts";
import { describeWatchFailure } from "./watch-failure.ts";

export type WatchResult =
  | { ok: true; historyId: string; expiresAt: Date }
  | { ok: false; failure: GmailFailure; error: { code: string; message: string } };

export async function watchInbox(session: GmailSession, topicName: string): Promise<WatchResult> {
  try {
    const res = await session.gmail.users.watch({
      userId: "me",
      requestBody: { topicName, labelIds: ["INBOX"], labelFilterBehavior: "INCLUDE" },
    });
    return { ok: true, historyId: String(res.data.historyId), expiresAt: new Date(Number(res.data.expiration)) };
  } catch (err) {
    const failure = classifyGmailError(err);
    return { ok: false, failure, error: describeWatchFailure(failure, topicName) };
  } finally {
    await session.flush();
  }
}

export async function saveWatch(
  executor: Executor,
  input: { sourceId: string; address: string; topicName: string; expiresAt: Date; now: Date },
): Promise<void> {
  const at = input.now.toISOString();
  await executor.execute(sql`
    insert into push_subscriptions (source_id, provider, external_id, resource, expires_at, last_renewed_at, status, created_at)
    values (${input.sourceId}::uuid, 'gmail', ${input.address}, ${input.topicName}, ${input.expiresAt.toISOString()}::timestamptz,
            ${at}::timestamptz, 'active', ${at}::timestamptz)
    on conflict (provider, external_id) do update set source_id = excluded.source_id, resource = excluded.resource,
      expires_at = excluded.expires_at, last_renewed_at = excluded.last_renewed_at, status = 'active', last_error = null`);
}

/** users.stop: Gmail stops publishing for this mailbox. Failures are logged; an unrenewed watch lapses within 7 days anyway. */
export async function stopWatch(ctx: Context, session: GmailSession): Promise<boolean> {
  try {
    await session.gmail.users.stop({ userId: "me" });
    return true;
  } catch (err) {
    ctx.log.warn({ err: classifyGmailError(err), sourceId: session.source.row.id }, "Gmail users.stop failed; the watch lapses on its own within 7 days");
    return false;
  } finally {
    await session.flush();
  }
}
