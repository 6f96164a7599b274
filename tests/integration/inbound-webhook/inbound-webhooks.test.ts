// Mailgun, SendGrid and Postmark posting mail to POST /push/inbound/:sourceId/:provider, with
// requests built as each documents them: accepted ones become tickets through the real pipeline;
// forged, replayed and wrongly authenticated ones are refused with 401 and store nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { count } from "drizzle-orm";
import { inboundMessages } from "../../../src/db/schema.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, drainPipeline, postRaw } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { basic, mailgunSignature, multipartForm, postmarkBody } from "./provider-requests.ts";

const SIGNING_KEY = "key-mailgun-test-0123456789abcdef";
const PASSWORD = "a-long-basic-password-0123";

let t: TestContext;
const ids: Record<"mailgun" | "sendgrid" | "postmark" | "api", string> = { mailgun: "", sendgrid: "", postmark: "", api: "" };

const create = async (config: Record<string, unknown>, address: string) =>
  (await t.api.post("/api/sources").send({ kind: "inbound-webhook", name: String(config.provider), address, role: "system", config }).expect(201)).body;

beforeAll(async () => {
  t = await createTestContext({ env: { MAX_MESSAGE_BYTES: "200000" } });
  await createCompany(t, "Acme", ["acme.com"]);
  ids.mailgun = (await create({ provider: "mailgun", signingKey: SIGNING_KEY }, "mg@mailgate.test")).id;
  ids.sendgrid = (await create({ provider: "sendgrid", user: "sendgrid", password: PASSWORD }, "sg@mailgate.test")).id;
  ids.postmark = (await create({ provider: "postmark", user: "postmark", password: PASSWORD }, "pm@mailgate.test")).id;
  ids.api = (await t.api.post("/api/sources").send({ kind: "api", name: "API", address: "api@mailgate.test", role: "system" }).expect(201)).body.id;
});
afterAll(async () => t.close());

const stored = async () => (await t.ctx.db.select({ n: count() }).from(inboundMessages))[0]!.n;

async function ticketOf(id: string) {
  await drainPipeline(t);
  return (await t.api.get(`/api/inbound-messages/${id}`).expect(200)).body as { status: string; ticketId: string | null; duplicateOf: string | null };
}

const postMailgun = (fields: Record<string, string | Buffer>, sourceId = ids.mailgun) => {
  const form = multipartForm(fields);
  return t.anonymous.post(`/push/inbound/${sourceId}/mailgun/mime`).set("Content-Type", form.contentType).send(form.body);
};
const mailgunFields = (raw: Buffer, at = t.ctx.clock.now(), token?: string) => ({
  ...mailgunSignature(SIGNING_KEY, at, token),
  recipient: "support@mailgate.test",
  sender: "john@acme.com",
  "body-mime": raw,
});

describe("sources of kind inbound-webhook", () => {
  it("When one is created per provider, then each shows its provider and hasSigningKey or hasPassword, never the secret", async () => {
    const list = (await t.api.get("/api/sources").expect(200)).body;
    const text = JSON.stringify(list);
    expect(text).not.toContain(SIGNING_KEY);
    expect(text).not.toContain(PASSWORD);
    const mailgun = (await t.api.get(`/api/sources/${ids.mailgun}`).expect(200)).body;
    expect(mailgun).toMatchObject({ kind: "inbound-webhook", status: "connected", config: { provider: "mailgun", hasSigningKey: true } });
    const sendgrid = (await t.api.get(`/api/sources/${ids.sendgrid}`).expect(200)).body;
    expect(sendgrid.config).toEqual({ provider: "sendgrid", user: "sendgrid", hasPassword: true });
  });

  it("When one lacks its provider or gets a short password, then the request is refused naming the field", async () => {
    const none = await t.api.post("/api/sources").send({ kind: "inbound-webhook", name: "X", address: "x@mailgate.test", role: "system" }).expect(400);
    expect(none.body.error.details[0].field).toBe("config");
    const short = await t.api.post("/api/sources").send({ kind: "inbound-webhook", name: "X", address: "x@mailgate.test", role: "system", config: { provider: "postmark", user: "u", password: "short" } }).expect(400);
    expect(short.body.error.details[0].field).toBe("config.password");
  });

  it("When its config is patched without the password, then the password is kept; Test Connection tells the URL to give the service", async () => {
    const patched = await t.api.patch(`/api/sources/${ids.postmark}`).send({ config: { user: "postmark" } }).expect(200);
    expect(patched.body.config).toEqual({ provider: "postmark", user: "postmark", hasPassword: true });
    const test = await t.api.post(`/api/sources/${ids.mailgun}/test`).expect(200);
    expect(test.body).toMatchObject({ ok: true, details: { provider: "mailgun", url: `http://127.0.0.1:3000/push/inbound/${ids.mailgun}/mailgun/mime` } });
  });
});

describe("mailgun", () => {
  it("When Mailgun posts a signed raw message, then it is answered 200 once stored and becomes a ticket", async () => {
    const res = await postMailgun(mailgunFields(buildEmail({ subject: "Printer on fire (Mailgun)" }))).expect(200);
    expect(res.body.created).toBe(true);
    expect(await ticketOf(res.body.id)).toMatchObject({ status: "ticket_created" });
  });

  it("When the signature is forged, the timestamp stale or from the future, then 401 and nothing is stored", async () => {
    const before = await stored();
    const raw = buildEmail({ subject: "forged" });
    const forged = { ...mailgunFields(raw), signature: "0".repeat(64) };
    expect((await postMailgun(forged).expect(401)).body.error.code).toBe("unauthorized");
    const otherKey = { ...mailgunFields(raw), ...mailgunSignature("another-key", t.ctx.clock.now()) };
    await postMailgun(otherKey).expect(401);
    await postMailgun(mailgunFields(raw, new Date(t.ctx.clock.now().getTime() - 6 * 60_000))).expect(401);
    await postMailgun(mailgunFields(raw, new Date(t.ctx.clock.now().getTime() + 10 * 60_000))).expect(401);
    const { signature: _s, ...unsigned } = mailgunFields(raw);
    await postMailgun(unsigned).expect(401);
    expect(await stored()).toBe(before);
  });

  it("When a used token comes back with another message, then 401 and nothing is stored; with the same message it is Mailgun's retry, answered 200 without a second copy", async () => {
    const first = mailgunFields(buildEmail({ subject: "original" }));
    await postMailgun(first).expect(200);
    const before = await stored();
    const replayed = { ...first, "body-mime": buildEmail({ subject: "swapped body" }) };
    await postMailgun(replayed).expect(401);
    const retry = await postMailgun(first).expect(200);
    expect(retry.body.created).toBe(false);
    expect(await stored()).toBe(before);
  });

  it("When the route posts without body-mime (its URL does not end in mime), then 400 says so", async () => {
    const { "body-mime": _raw, ...parsedOnly } = mailgunFields(buildEmail());
    const res = await postMailgun({ ...parsedOnly, "body-plain": "hello" }).expect(400);
    expect(res.body.error.message).toMatch(/end with "mime"/);
  });

  it("When Mailgun posts a url-encoded form, then it is read as well", async () => {
    const fields = mailgunFields(buildEmail({ subject: "urlencoded" }));
    const body = new URLSearchParams({ ...fields, "body-mime": fields["body-mime"].toString("utf8") }).toString();
    await t.anonymous.post(`/push/inbound/${ids.mailgun}/mailgun/mime`).set("Content-Type", "application/x-www-form-urlencoded").send(body).expect(200);
  });
});

describe("sendgrid", () => {
  const post = (fields: Record<string, string | Buffer>, auth: string | null = basic("sendgrid", PASSWORD)) => {
    const form = multipartForm(fields);
    const req = t.anonymous.post(`/push/inbound/${ids.sendgrid}/sendgrid`).set("Content-Type", form.contentType);
    return (auth ? req.set("Authorization", auth) : req).send(form.body);
  };

  it("When SendGrid posts the raw MIME in the email field with the Basic credentials, then it becomes a ticket", async () => {
    const raw = buildEmail({ subject: "SendGrid raw", text: "Grüße, 8-bit: \u00e9" });
    const res = await post({ to: "support@mailgate.test", from: "john@acme.com", envelope: '{"to":["support@mailgate.test"],"from":"john@acme.com"}', charsets: "{}", email: raw }).expect(200);
    expect(await ticketOf(res.body.id)).toMatchObject({ status: "ticket_created" });
  });

  it("When the credentials are wrong or missing, then 401 with a Basic challenge and nothing is stored", async () => {
    const before = await stored();
    const wrong = await post({ email: buildEmail() }, basic("sendgrid", "not-the-password-at-all")).expect(401);
    expect(wrong.headers["www-authenticate"]).toMatch(/^Basic/);
    await post({ email: buildEmail() }, null).expect(401);
    await post({ email: buildEmail() }, basic("other", PASSWORD)).expect(401);
    expect(await stored()).toBe(before);
  });

  it("When the raw option is off (no email field), then 400 tells to switch it on", async () => {
    const res = await post({ text: "parsed", subject: "s" }).expect(400);
    expect(res.body.error.message).toMatch(/POST the raw, full MIME message/);
  });
});

describe("postmark", () => {
  const post = (body: unknown, auth: string | null = basic("postmark", PASSWORD)) => {
    const req = t.anonymous.post(`/push/inbound/${ids.postmark}/postmark`).set("Content-Type", "application/json");
    return (auth ? req.set("Authorization", auth) : req).send(JSON.stringify(body));
  };

  it("When Postmark posts JSON with RawEmail, then it becomes a ticket", async () => {
    const res = await post(postmarkBody(buildEmail({ subject: "Postmark raw" }))).expect(200);
    expect(await ticketOf(res.body.id)).toMatchObject({ status: "ticket_created" });
  });

  it("When RawEmail is missing, then 400 tells to switch on the raw content option; wrong credentials get 401", async () => {
    const res = await post(postmarkBody(null)).expect(400);
    expect(res.body.error.message).toMatch(/Include raw email content/);
    const before = await stored();
    await post(postmarkBody(buildEmail()), basic("postmark", "wrong-password-wrong-password")).expect(401);
    expect(await stored()).toBe(before);
  });

  it("When the message is over MAX_MESSAGE_BYTES, then 413", async () => {
    const big = buildEmail({ text: "x".repeat(250_000) });
    const res = await post(postmarkBody(big)).expect(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  it("When the same mail arrives by Postmark and through another channel, then it is one ticket and the second copy is a duplicate", async () => {
    const raw = buildEmail({ subject: "two channels", messageId: "<two-channels-1@acme.com>" });
    const viaPostmark = await post(postmarkBody(raw)).expect(200);
    const first = await ticketOf(viaPostmark.body.id);
    const viaApi = await postRaw(t, ids.api, raw);
    const second = await ticketOf(viaApi);
    expect(first.status).toBe("ticket_created");
    expect(second).toMatchObject({ status: "duplicate", ticketId: first.ticketId });
  });
});

describe("a disabled source", () => {
  it("When the source is disabled, then a post is answered 503 with Retry-After and nothing is stored; enabled again, it is taken", async () => {
    await t.api.patch(`/api/sources/${ids.sendgrid}`).send({ enabled: false }).expect(200);
    const before = await stored();
    const form = multipartForm({ email: buildEmail({ subject: "while disabled" }) });
    const post = () => t.anonymous.post(`/push/inbound/${ids.sendgrid}/sendgrid`).set("Authorization", basic("sendgrid", PASSWORD)).set("Content-Type", form.contentType).send(form.body);
    const res = await post().expect(503);
    expect(res.body.error.code).toBe("source_disabled");
    expect(res.headers["retry-after"]).toBeDefined();
    expect(await stored()).toBe(before);
    await t.api.patch(`/api/sources/${ids.sendgrid}`).send({ enabled: true }).expect(200);
    await post().expect(200);
  });
});

describe("which source and provider", () => {
  it("When the source is unknown, not an inbound-webhook source, or takes another provider, then 404 and nothing is stored", async () => {
    const before = await stored();
    const fields = mailgunFields(buildEmail());
    await postMailgun(fields, "00000000-0000-4000-8000-000000000000").expect(404);
    await postMailgun(fields, "not-a-uuid").expect(404);
    await postMailgun(fields, ids.api).expect(404);
    const form = multipartForm(fields);
    await t.anonymous.post(`/push/inbound/${ids.sendgrid}/mailgun`).set("Content-Type", form.contentType).send(form.body).expect(404);
    await t.anonymous.post(`/push/inbound/${ids.mailgun}/imap`).send("x").expect(404);
    expect(await stored()).toBe(before);
  });
});
