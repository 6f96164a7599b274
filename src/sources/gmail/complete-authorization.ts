// The OAuth callback's story: take the single-use state, exchange the code (with the PKCE
// verifier), learn the mailbox from getProfile, store the tokens sealed, watch the inbox, take the
// first cursor, and mark the source connected. A re-authorization keeps the cursor it had and
// syncs from it, so mail that arrived while the grant was broken is not skipped.
import { requeueWaitingForSource } from "../../db/outbound-messages.ts";
import { eq } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { mailSources } from "../../db/schema.ts";
import { findSource } from "../../db/sources.ts";
import { consumeAuthorization } from "../oauth-state.ts";
import { setSourceStatus } from "../source-status.ts";
import type { GmailSecrets } from "../source-config.ts";
import { saveBaseline } from "./cursor-store.ts";
import { classifyGmailError } from "./gmail-failure.ts";
import { openGmailSession } from "./gmail-session.ts";
import { mergeTokens, type GmailTokens } from "./gmail-source.ts";
import { historyIdOf } from "./sync-decision.ts";
import { requestGmailSync } from "./sync-requests.ts";
import { recordCreationFailure } from "../renew-subscriptions.ts";
import { saveWatch, watchInbox } from "./watch.ts";

export type AuthorizationOutcome =
  | { kind: "connected"; address: string; watch: null | { ok: true; expiresAt: Date } | { ok: false; message: string } }
  | { kind: "invalid_state" }
  | { kind: "denied"; message: string }
  | { kind: "token_failed"; message: string };

export async function completeGmailAuthorization(
  ctx: Context,
  input: { code?: string; state?: string; error?: string },
): Promise<AuthorizationOutcome> {
  if (!input.state) return { kind: "invalid_state" };
  const taken = await consumeAuthorization(ctx.db, ctx.secrets, { state: input.state, provider: "google", now: ctx.clock.now() });
  if (!taken) return { kind: "invalid_state" };
  if (input.error || !input.code) {
    return { kind: "denied", message: `Google did not grant access (${input.error ?? "no code returned"}).` };
  }
  const row = await findSource(ctx.db, taken.sourceId);
  if (!row) return { kind: "invalid_state" };

  const session = openGmailSession(ctx, row, { requireTokens: false });
  let tokens: GmailTokens;
  try {
    tokens = (await session.oauth.getToken({ code: input.code, codeVerifier: taken.codeVerifier })).tokens;
  } catch (err) {
    const failure = classifyGmailError(err);
    return { kind: "token_failed", message: `Google refused the authorization code: ${failure.message}. Check the client ID, client secret and redirect URI, then click Authorize again.` };
  }
  const merged = mergeTokens(session.source.secrets.tokens, tokens);
  session.oauth.setCredentials(merged);

  // Read before the baseline (profile, watch) is taken, so no mail after the baseline is older.
  const connectingAt = ctx.clock.now();
  let profile;
  try {
    profile = (await session.gmail.users.getProfile({ userId: "me" })).data;
  } catch (err) {
    return { kind: "token_failed", message: `Signed in, but Gmail refused to read the mailbox: ${classifyGmailError(err).message}` };
  }
  const address = String(profile.emailAddress ?? row.address).toLowerCase();
  await storeAuthorization(ctx, row.id, address, merged);
  await session.flush();

  const topicName = session.source.config.topicName;
  const watch = topicName ? await watchInbox(session, topicName) : null;
  const now = ctx.clock.now();
  if (watch?.ok && topicName) await saveWatch(ctx.db, { sourceId: row.id, address, topicName, expiresAt: watch.expiresAt, now });

  const cursor = historyIdOf(row.cursor);
  if (!cursor) {
    // First connection: mail already in the inbox is history; tickets start with what arrives now,
    // and a resync never reaches back before connectedAt. A re-authorization keeps both.
    await saveBaseline(ctx.db, row.id, { historyId: watch?.ok ? watch.historyId : String(profile.historyId), connectedAt: connectingAt, now });
  }
  await setSourceStatus(ctx, row.id, { status: "connected" });
  if (watch && !watch.ok) await recordCreationFailure(ctx, row.id, "gmail", watch.error);
  if (cursor) {
    await requestGmailSync(ctx.db, { sourceId: row.id, force: true, now });
  }
  ctx.database.wake("gmail_sync");
  // Mail that waited for this authorization goes out now.
  if ((await requeueWaitingForSource(ctx.db, row.id, now)) > 0) ctx.database.wake("outbound");
  return {
    kind: "connected",
    address,
    watch: watch === null ? null : watch.ok ? { ok: true, expiresAt: watch.expiresAt } : { ok: false, message: watch.error.message },
  };
}

async function storeAuthorization(ctx: Context, sourceId: string, address: string, tokens: GmailTokens): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx.select({ secrets: mailSources.secrets }).from(mailSources).where(eq(mailSources.id, sourceId)).for("update");
    const secrets = row?.secrets ? ctx.secrets.openJson<GmailSecrets>(row.secrets) : { clientSecret: "" };
    await tx
      .update(mailSources)
      .set({ address, secrets: ctx.secrets.sealJson({ ...secrets, tokens }), updatedAt: ctx.clock.now() })
      .where(eq(mailSources.id, sourceId));
  });
}
