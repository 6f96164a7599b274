// The smtp block of imap and api sources through the API: created, changed and removed, its
// password sealed with the other secrets and never answered.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mailSources } from "../../../src/db/schema.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

const IMAP_PASSWORD = "imap-pass-4f1e";
const SMTP_PASSWORD = "smtp-pass-9b7c-unique";
const smtp = (overrides: Record<string, unknown> = {}) => ({ host: "smtp.fastmail.com", user: "support@example.com", password: SMTP_PASSWORD, ...overrides });

const imapSource = (extra: Record<string, unknown> = {}) => ({
  kind: "imap",
  name: "Support inbox",
  address: "support@example.com",
  role: "system",
  imap: { host: "imap.fastmail.com", user: "support@example.com", password: IMAP_PASSWORD },
  ...extra,
});
const apiSource = (extra: Record<string, unknown> = {}) => ({ kind: "api", name: "Raw MIME", address: "api@example.com", role: "system", ...extra });

async function create(body: Record<string, unknown>) {
  const res = await t.api.post("/api/sources").send(body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Record<string, unknown> & { id: string };
}

const rowOf = async (id: string) => (await t.ctx.db.select().from(mailSources).where(eq(mailSources.id, id)))[0]!;
const fields = (res: { body: { error: { details: { field: string }[] } } }) => res.body.error.details.map((d) => d.field);

describe("the smtp block of a source", () => {
  it("When an IMAP source is created with one, then it shows its settings and hasPassword, and no answer or column holds the password", async () => {
    const source = await create(imapSource({ smtp: smtp({ saveToSent: true }) }));
    expect(source.smtp).toEqual({ host: "smtp.fastmail.com", port: 587, security: "starttls", user: "support@example.com", saveToSent: true, hasPassword: true });
    expect(source.imap).not.toHaveProperty("smtp");

    const row = await rowOf(source.id);
    expect(JSON.stringify(row.config)).not.toContain(SMTP_PASSWORD);
    expect(row.secrets!.toString("latin1")).not.toContain(SMTP_PASSWORD);
    expect(t.ctx.secrets.openJson(row.secrets!)).toEqual({ password: IMAP_PASSWORD, smtpPassword: SMTP_PASSWORD });

    const one = await t.api.get(`/api/sources/${source.id}`).expect(200);
    const list = await t.api.get("/api/sources").expect(200);
    for (const text of [JSON.stringify(source), one.text, list.text]) expect(text).not.toContain(SMTP_PASSWORD);
  });

  it("When a source has none, then imap and api sources show smtp null and OAuth sources no smtp at all", async () => {
    expect((await create(imapSource())).smtp).toBeNull();
    expect((await create(apiSource())).smtp).toBeNull();
    const gmail = await create({
      kind: "gmail",
      name: "Gmail",
      address: "gmail@example.com",
      role: "system",
      gmail: { clientId: "c", clientSecret: "s", redirectUri: "https://mailgate.example.com/admin/oauth/google/callback" },
    });
    expect(gmail).not.toHaveProperty("smtp");
  });

  it("When part of the block is patched, then the stored password is kept; a new one replaces it without being echoed", async () => {
    const source = await create(imapSource({ smtp: smtp() }));
    const changed = await t.api.patch(`/api/sources/${source.id}`).send({ smtp: { port: 465, security: "ssl", sentFolder: "Sent Items" } }).expect(200);
    expect(changed.body.smtp).toEqual({ host: "smtp.fastmail.com", port: 465, security: "ssl", user: "support@example.com", saveToSent: false, sentFolder: "Sent Items", hasPassword: true });
    expect(t.ctx.secrets.openJson((await rowOf(source.id)).secrets!)).toEqual({ password: IMAP_PASSWORD, smtpPassword: SMTP_PASSWORD });

    const replaced = await t.api.patch(`/api/sources/${source.id}`).send({ smtp: { password: "another-smtp-pass" }, imap: { port: 143 } }).expect(200);
    expect(replaced.text).not.toContain("another-smtp-pass");
    expect(replaced.body).toMatchObject({ imap: { port: 143, hasPassword: true }, smtp: { port: 465, hasPassword: true } });
    expect(t.ctx.secrets.openJson((await rowOf(source.id)).secrets!)).toEqual({ password: IMAP_PASSWORD, smtpPassword: "another-smtp-pass" });
  });

  it("When smtp is patched to null, then the block and its password are gone; an api source is left without secrets", async () => {
    const imap = await create(imapSource({ smtp: smtp() }));
    expect((await t.api.patch(`/api/sources/${imap.id}`).send({ smtp: null }).expect(200)).body.smtp).toBeNull();
    expect(t.ctx.secrets.openJson((await rowOf(imap.id)).secrets!)).toEqual({ password: IMAP_PASSWORD });

    const api = await create(apiSource({ smtp: smtp() }));
    expect(api.smtp).toMatchObject({ hasPassword: true, saveToSent: false });
    await t.api.patch(`/api/sources/${api.id}`).send({ smtp: null }).expect(200);
    expect((await rowOf(api.id)).secrets).toBeNull();
  });

  it("When the block is wrong, then the answer is 400 naming each field, never a server error", async () => {
    const gmailSmtp = await t.api
      .post("/api/sources")
      .send({ kind: "graph", name: "M365", address: "m@example.com", role: "system", graph: { tenantId: "t", clientId: "c", clientSecret: "s", redirectUri: "https://m.example.com/cb" }, smtp: smtp() })
      .expect(400);
    expect(fields(gmailSmtp)).toEqual(["smtp"]);
    expect(gmailSmtp.body.error.message).toContain("sends through its provider's API");

    const missing = await t.api.post("/api/sources").send(apiSource({ smtp: { host: "smtp.example.com", port: "587", saveToSent: true } })).expect(400);
    expect(fields(missing).sort()).toEqual(["smtp.password", "smtp.port", "smtp.user"]);

    const source = await create(apiSource());
    for (const patch of [{ smtp: "yes" }, { smtp: { port: 70000 } }, { smtp: { host: "h", user: "u", password: "p", saveToSent: true } }]) {
      const res = await t.api.patch(`/api/sources/${source.id}`).send(patch);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(fields(res)[0]).toMatch(/^smtp/);
    }
  });
});
