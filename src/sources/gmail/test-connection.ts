// "Test Connection" for Gmail: with the stored authorization, read the mailbox's profile and say
// what mailgate sees (address, message count, the watch), or what to fix.
import { eq } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { pushSubscriptions } from "../../db/schema.ts";
import type { SourceRecord } from "../../db/sources.ts";
import { setSourceStatus } from "../source-status.ts";
import type { ConnectionTestResult } from "../test-connection.ts";
import { classifyGmailError } from "./gmail-failure.ts";
import { openGmailSession } from "./gmail-session.ts";
import { openGmailSource } from "./gmail-source.ts";

export async function testGmailConnection(ctx: Context, source: SourceRecord): Promise<ConnectionTestResult> {
  const { config, secrets } = openGmailSource(ctx, source);
  if (!secrets.tokens?.refresh_token && !secrets.tokens?.access_token) {
    return { ok: false, error: { code: "not_authorized", message: "This Gmail source is not authorized yet: click Authorize and sign in to Google with the support mailbox." } };
  }
  const session = openGmailSession(ctx, source);
  try {
    const { data } = await session.gmail.users.getProfile({ userId: "me" });
    const [watch] = await ctx.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.sourceId, source.id));
    return {
      ok: true,
      details: {
        emailAddress: data.emailAddress,
        messagesTotal: data.messagesTotal,
        historyId: data.historyId,
        delivery: config.delivery,
        topicName: config.topicName ?? null,
        watch: watch ? { status: watch.status, expiresAt: watch.expiresAt?.toISOString() ?? null, lastError: watch.lastError } : null,
      },
    };
  } catch (err) {
    const failure = classifyGmailError(err);
    if (failure.kind === "reauth") {
      await setSourceStatus(ctx, source.id, { status: "needs_reauth", error: { code: failure.code, message: failure.message } });
    }
    return { ok: false, error: { code: failure.code, message: failure.message } };
  } finally {
    await session.flush();
  }
}
