// Sources of kind smtp through the API: the addresses they own, their AUTH login (sealed, never
// shown), and the fields only they take.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

describe("sources of kind smtp", () => {
  it("When one is created with more addresses and a login while no instance listens, then it is in error naming SMTP_LISTEN, lists its addresses once each and hides the password", async () => {
    const res = await t.api
      .post("/api/sources")
      .send({ kind: "smtp", name: "Forwarded", address: "Support@MSP.example", addresses: ["help@msp.example", "HELP@msp.example", "support@msp.example"], role: "system", config: { auth: { user: "relay", password: "relay-password-1" } } })
      .expect(201);
    expect(res.body).toMatchObject({ kind: "smtp", address: "support@msp.example", addresses: ["help@msp.example"], status: "error", config: { auth: { user: "relay", hasPassword: true } } });
    expect(res.body.lastError).toContain("SMTP_LISTEN");
    expect(JSON.stringify(res.body)).not.toContain("relay-password-1");
  });

  it("When it is patched, then addresses are replaced, an omitted password is kept and auth null removes the login", async () => {
    const { id } = (await t.api.post("/api/sources").send({ kind: "smtp", name: "P", address: "p@msp.example", role: "system", config: { auth: { user: "u1", password: "password-one" } } }).expect(201)).body;
    const renamed = await t.api.patch(`/api/sources/${id}`).send({ addresses: ["q@msp.example"], config: { auth: { user: "u2" } } }).expect(200);
    expect(renamed.body).toMatchObject({ addresses: ["q@msp.example"], config: { auth: { user: "u2", hasPassword: true } } });
    const open = await t.api.patch(`/api/sources/${id}`).send({ config: { auth: null } }).expect(200);
    expect(open.body.config).toEqual({ auth: null });
  });

  it("When another kind is given addresses or config, or the login lacks a password, then the request is refused field by field", async () => {
    const foreign = await t.api.post("/api/sources").send({ kind: "api", name: "A", address: "a@msp.example", role: "system", addresses: ["b@msp.example"] }).expect(400);
    expect(foreign.body.error.details).toEqual([{ field: "addresses", message: 'only for kind "smtp"; this source is kind "api": remove it' }]);
    const noPassword = await t.api.post("/api/sources").send({ kind: "smtp", name: "S", address: "s@msp.example", role: "system", config: { auth: { user: "u" } } }).expect(400);
    expect(noPassword.body.error.details[0].field).toBe("config.auth.password");
  });

  it("When Test Connection is asked of one while SMTP_LISTEN is unset, then it says the listener is off", async () => {
    const { id } = (await t.api.post("/api/sources").send({ kind: "smtp", name: "T", address: "t@msp.example", role: "system" }).expect(201)).body;
    const res = await t.api.post(`/api/sources/${id}/test`).expect(200);
    expect(res.body).toMatchObject({ ok: false, error: { code: "listener_off" } });
  });

  it("When one is given an SMTP sending block, then it can send replies, and a Sent copy is refused (it has no mailbox)", async () => {
    const smtp = { host: "smtp.msp.example", port: 587, security: "starttls", user: "support@msp.example", password: "smtp-password" };
    const res = await t.api.post("/api/sources").send({ kind: "smtp", name: "Sends", address: "sends@msp.example", role: "system", smtp }).expect(201);
    expect(res.body.sending).toEqual({ canSend: true, problem: null });
    expect(res.body.smtp).toMatchObject({ host: "smtp.msp.example", hasPassword: true });
    const refused = await t.api.patch(`/api/sources/${res.body.id}`).send({ smtp: { saveToSent: true } }).expect(400);
    expect(refused.body.error.details[0].field).toBe("smtp.saveToSent");
  });
});
