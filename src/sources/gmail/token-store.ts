// Tokens live in the source's sealed secrets JSON; a refresh replaces the access token there, so a
// restart does not need a refresh (and a rotated refresh token is never lost).
import { eq } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { mailSources } from "../../db/schema.ts";
import { mergeTokens, type GmailTokens } from "./gmail-source.ts";
import type { GmailSecrets } from "../source-config.ts";

export async function saveTokens(ctx: Context, sourceId: string, fresh: GmailTokens): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx.select({ secrets: mailSources.secrets }).from(mailSources).where(eq(mailSources.id, sourceId)).for("update");
    if (!row?.secrets) return;
    const secrets = ctx.secrets.openJson<GmailSecrets & { tokens?: GmailTokens }>(row.secrets);
    const next = { ...secrets, tokens: mergeTokens(secrets.tokens, fresh) };
    await tx.update(mailSources).set({ secrets: ctx.secrets.sealJson(next) }).where(eq(mailSources.id, sourceId));
  });
}
