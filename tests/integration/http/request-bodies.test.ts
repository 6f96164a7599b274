// What a request body may be: the admin API takes JSON only (415 for a body of another type, no
// Content-Type needed without a body), and every body limit answers 413 naming its own limit and
// the remedy that applies to it (MAX_MESSAGE_BYTES only for raw email).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEmail } from "../../helpers/build-email.ts";
import { createSource } from "../../helpers/pipeline.ts";
import { createTestContext, TEST_TOKEN, type TestContext } from "../../helpers/test-context.ts";

const MAX_MESSAGE_BYTES = 64 * 1024;
let t: TestContext;
let sourceId: string;
let webhookId: string;

beforeAll(async () => {
  t = await createTestContext({ env: { MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) } });
  sourceId = await createSource(t);
  webhookId = (await t.api.post("/api/webhooks").send({ url: "http://127.0.0.1:9/hook" }).expect(201)).body.id;
});
afterAll(async () => t.close());

const companyNames = async () => ((await t.api.get("/api/companies").expect(200)).body.items as { name: string }[]).map((c) => c.name);

/** A request the way a streaming client sends it: chunked, with no Content-Length to check up front. */
async function postChunked(path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
  const server = t.app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, path, method: "POST", headers: { ...headers, "transfer-encoding": "chunked" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      });
      req.on("error", reject);
      // In pieces, so the parser meets the limit mid-stream; a server that answered early ends the upload.
      for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
      req.end();
    });
  } finally {
    server.close();
  }
}

describe("Content-Type of the admin API", () => {
  const json = JSON.stringify({ name: "Typed Corp" });

  it.each([
    ["text/xml", "text/xml"],
    ["text/plain", "text/plain; charset=utf-8"],
    ["a form", "application/x-www-form-urlencoded"],
    ["multipart", "multipart/form-data; boundary=x"],
  ])("When a JSON body is sent as %s, then the API answers 415 naming application/json and changes nothing", async (_name, type) => {
    const res = await t.api.post("/api/companies").set("Content-Type", type).send(json).expect(415);
    expect(res.body.error.code).toBe("unsupported_media_type");
    expect(res.body.error.message).toContain("application/json");
    expect(await companyNames()).not.toContain("Typed Corp");
  });

  it("When a PATCH or PUT carries a body of another type, then it is 415 as well", async () => {
    await t.api.patch(`/api/webhooks/${webhookId}`).set("Content-Type", "text/plain").send(JSON.stringify({ description: "x" })).expect(415);
    await t.api.put("/api/settings").set("Content-Type", "text/xml").send(JSON.stringify({ ticketSubjectTag: "T#" })).expect(415);
    expect((await t.api.get(`/api/webhooks/${webhookId}`).expect(200)).body.description).toBeNull();
  });

  it("When a body is sent with no Content-Type at all, then it is 415 too", async () => {
    const res = await postChunked("/api/companies", { authorization: `Bearer ${TEST_TOKEN}` }, Buffer.from(json));
    expect(res.status).toBe(415);
    expect(res.body.error.message).toContain("application/json");
  });

  it.each([
    ["application/json", "Json Plain"],
    ["application/json; charset=utf-8", "Json Charset"],
    ["application/json;charset=UTF-8", "Json Charset Upper"],
    ["application/merge-patch+json", "Json Suffix"],
    ["application/vnd.api+json; charset=utf-8", "Json Vendor"],
  ])("When the body is sent as %s, then it is read", async (type, name) => {
    await t.api.post("/api/companies").set("Content-Type", type).send(JSON.stringify({ name })).expect(201);
  });

  it("When a request has no body, then it needs no Content-Type: GET, DELETE and POST actions work", async () => {
    await t.api.get("/api/companies").expect(200);
    await t.api.post(`/api/webhooks/${webhookId}/rotate-secret`).expect(200);
    // An empty body declared as something else is still no body (Content-Length: 0).
    await t.api.post(`/api/webhooks/${webhookId}/rotate-secret`).set("Content-Type", "text/plain").send("").expect(200);
    const doomed = (await t.api.post("/api/webhooks").send({ url: "http://127.0.0.1:9/doomed" }).expect(201)).body.id;
    await t.api.delete(`/api/webhooks/${doomed}`).expect(204);
  });

  it("When raw email is posted to the intake, then message/rfc822 is what it takes, as before", async () => {
    await t.api.post(`/api/inbound?sourceId=${sourceId}`).set("Content-Type", "message/rfc822").send(buildEmail()).expect(202);
  });
});

describe("body limits", () => {
  const MiB = 1024 * 1024;

  it("When a JSON API body is over 1 MiB, then the 413 names 1 MiB, says it is fixed, and suggests no setting", async () => {
    const res = await t.api.post("/api/companies").send({ name: "x".repeat(MiB) }).expect(413);
    expect(res.body.error).toMatchObject({ code: "payload_too_large", details: { limitBytes: MiB } });
    expect(res.body.error.message).toContain("1048576 bytes (1 MiB)");
    expect(res.body.error.message).toContain("this limit is fixed");
    expect(res.body.error.message).not.toContain("MAX_MESSAGE_BYTES");
  });

  it("When a JSON API body over 1 MiB is streamed, then the answer is the same", async () => {
    const body = Buffer.from(JSON.stringify({ name: "x".repeat(MiB) }));
    const res = await postChunked("/api/companies", { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" }, body);
    expect(res.status).toBe(413);
    expect(res.body.error.message).toContain("1048576 bytes (1 MiB)");
    expect(res.body.error.message).not.toContain("MAX_MESSAGE_BYTES");
  });

  it.each(["/push/graph", "/push/graph/lifecycle"])(
    "When a body to %s is over 4 MiB, then the 413 names 4 MiB and does not send the operator to MAX_MESSAGE_BYTES",
    async (path) => {
      const res = await t.anonymous.post(path).set("Content-Type", "application/json").send(Buffer.alloc(4 * MiB + 1, " ")).expect(413);
      expect(res.body.error).toMatchObject({ code: "payload_too_large", details: { limitBytes: 4 * MiB } });
      expect(res.body.error.message).toContain("4194304 bytes (4 MiB)");
      expect(res.body.error.message).toContain("this limit is fixed");
      expect(res.body.error.message).not.toContain("MAX_MESSAGE_BYTES");
    },
  );

  it("When raw email declared over MAX_MESSAGE_BYTES is posted, then the 413 names the limit and MAX_MESSAGE_BYTES", async () => {
    const res = await t.api
      .post(`/api/inbound?sourceId=${sourceId}`)
      .set("Content-Type", "message/rfc822")
      .send(buildEmail({ text: "x".repeat(2 * MAX_MESSAGE_BYTES) }))
      .expect(413);
    expect(res.body.error).toMatchObject({ code: "payload_too_large", details: { limitBytes: MAX_MESSAGE_BYTES } });
    expect(res.body.error.message).toContain("65536 bytes (64 KiB); raise MAX_MESSAGE_BYTES");
  });

  it("When raw email over MAX_MESSAGE_BYTES is streamed without a length, then the answer is the same", async () => {
    const res = await postChunked(
      `/api/inbound?sourceId=${sourceId}`,
      { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "message/rfc822" },
      buildEmail({ text: "x".repeat(2 * MAX_MESSAGE_BYTES) }),
    );
    expect(res.status).toBe(413);
    expect(res.body.error.message).toContain("65536 bytes (64 KiB); raise MAX_MESSAGE_BYTES");
  });
});
