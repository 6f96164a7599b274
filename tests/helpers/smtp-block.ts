// Gives a source an SMTP block pointing at a fake SMTP server on loopback (plain, as a local relay).
// Written to the row as PATCH /api/sources/:id stores it (tests/integration/http/sources-smtp.test.ts
// covers that path), so the benches, which have no HTTP client, can use it too.
import { eq } from "drizzle-orm";
import { mailSources } from "../../src/db/schema.ts";
import type { FakeSmtp } from "../fakes/smtp/smtp-server.ts";
import type { TestContext } from "./test-context.ts";

/** Takes a test context, or anything holding a Context (the benches). */
export async function giveSmtpBlock(t: Pick<TestContext, "ctx">, sourceId: string, smtp: Pick<FakeSmtp, "port" | "user" | "password">): Promise<void> {
  const [row] = await t.ctx.db.select().from(mailSources).where(eq(mailSources.id, sourceId));
  const secrets = row!.secrets ? t.ctx.secrets.openJson<Record<string, unknown>>(row!.secrets) : {};
  await t.ctx.db
    .update(mailSources)
    .set({
      config: { ...(row!.config as object), smtp: { host: "127.0.0.1", port: smtp.port, security: "none", user: smtp.user } },
      secrets: t.ctx.secrets.sealJson({ ...secrets, smtpPassword: smtp.password }),
    })
    .where(eq(mailSources.id, sourceId));
}
