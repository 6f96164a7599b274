import type { Context } from "../../context.ts";
import type { SourceRecord } from "../../db/sources.ts";
import type { ConnectionTestResult } from "../test-connection.ts";
import { hasGraphTokens } from "./graph-tokens.ts";
import { openGraphSession, requestTimeout } from "./graph-session.ts";

/** "Test Connection": signs in with the stored grant (refreshing it) and reads the mailbox's profile. */
export async function testGraphConnection(ctx: Context, source: SourceRecord): Promise<ConnectionTestResult> {
  if (!hasGraphTokens(ctx, source.secrets)) {
    return {
      ok: false,
      error: { code: "not_authorized", message: "This Microsoft 365 source is not authorized yet: click Authorize and sign in with the mailbox's account." },
    };
  }
  const session = openGraphSession(ctx, source.id);
  try {
    const me = (await session.client.api("/me").select("id,displayName,mail,userPrincipalName").option("signal", requestTimeout()).get()) as {
      displayName?: string;
      mail?: string | null;
      userPrincipalName?: string;
    };
    const mailbox = (me.mail ?? me.userPrincipalName ?? "").toLowerCase();
    return {
      ok: true,
      details: {
        mailbox,
        displayName: me.displayName ?? null,
        ...(mailbox && mailbox !== source.address ? { warning: `Signed in as ${mailbox}, but the source's address is ${source.address}.` } : {}),
      },
    };
  } catch (err) {
    const failure = session.failureOf(err);
    const code = failure.kind === "reauth" ? "needs_reauth" : failure.kind === "rejected" ? failure.code : failure.kind;
    return { ok: false, error: { code, message: `Microsoft Graph: ${failure.message}` } };
  }
}
