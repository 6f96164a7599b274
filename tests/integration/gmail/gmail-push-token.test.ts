// POST /push/gmail against the fake Google's certs endpoint: a token that cannot be a Google OIDC
// token is refused without fetching the certs, an unknown kid costs one refresh, Google's certs
// out of reach is a 503, and no answer shows a URL, a network error or a library message.
import { createServer } from "node:net";
import { Writable } from "node:stream";
import supertest from "supertest";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Context } from "../../../src/context.ts";
import { createApp } from "../../../src/http/app.ts";
import { createLogger } from "../../../src/log.ts";
import { CERTS_REFRESH_MIN_INTERVAL_MS } from "../../../src/sources/gmail/verify-push-token.ts";
import { PUSH_SERVICE_ACCOUNT, startFakeGoogle, type FakeGoogle } from "../../fakes/google/fake-google.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

const PUSH_AUDIENCE = "https://mailgate.example.com/push/gmail";
const CERTS_PATH = "/oauth2/v1/certs";

let google: FakeGoogle;
let t: TestContext;
let clockOffsetMs = 0;
let logLines: Array<{ level: number; msg: string; reason?: string }>;

beforeAll(async () => {
  google = await startFakeGoogle();
  t = await createTestContext({
    env: { ...google.env(), GMAIL_PUSH_AUDIENCE: PUSH_AUDIENCE },
    clock: { now: () => new Date(Date.now() + clockOffsetMs) },
  });
});
afterAll(async () => {
  await t?.close();
  await google?.close();
});
beforeEach(() => {
  google.clearFailures();
  google.requests.splice(0);
  clockOffsetMs = 0;
  logLines = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (logLines.push(JSON.parse(String(chunk))), done()) });
  t.ctx.log = createLogger("info", stream, "json");
});

/** A mailgate whose push verifier starts with no certs cached (the real app, as main.ts builds it). */
function mailgate(configure: (google: Context["config"]["google"]) => Partial<Context["config"]["google"]> = () => ({})) {
  const config = { ...t.ctx.config, google: { ...t.ctx.config.google, ...configure(t.ctx.config.google) } };
  // Inherits the rest from t.ctx, so the logger each test installs there is the one used.
  const ctx = Object.create(t.ctx, { config: { value: config } }) as Context;
  const agent = supertest(createApp(ctx));
  return (token: string | null) => {
    const request = google.pushRequest({ token: token ?? undefined });
    const req = agent.post("/push/gmail").set("content-type", "application/json");
    if (token !== null) req.set("authorization", `Bearer ${token}`);
    return req.send(request.body as object);
  };
}

const certsFetches = () => google.requests.filter((r) => r.path.startsWith(CERTS_PATH)).length;
const valid = () => google.oauth.signPushToken({ audience: PUSH_AUDIENCE, email: PUSH_SERVICE_ACCOUNT });
const withKid = (kid: string) => google.oauth.signPushToken({ audience: PUSH_AUDIENCE, email: PUSH_SERVICE_ACCOUNT, kid });
const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** What must never be in an answer to the internet: where mailgate fetches from, how that failed, library wording. */
function expectNoInternals(res: { text: string }) {
  for (const leak of [google.url, "127.0.0.1", "googleapis", "/oauth2/", "certs", "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "getaddrinfo", "status code", "Failed to retrieve", "GaxiosError", "GMAIL_PUSH", "No pem", "    at "]) {
    expect(res.text, `the body shows "${leak}"`).not.toContain(leak);
  }
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}${CERTS_PATH}`;
}

describe("Gmail push token verification", () => {
  it("When the bearer token is not a well-formed RS256 JWT with a kid, then the push gets 401 and Google's certs are not fetched", async () => {
    const push = mailgate();
    const [header, payload, signature] = valid().split(".") as [string, string, string];
    const kid = google.oauth.keyId;
    const malformed = {
      word: "not-a-jwt",
      twoParts: `${header}.${payload}`,
      fourParts: `${header}.${payload}.${signature}.${signature}`,
      emptySignature: `${header}.${payload}.`,
      notBase64url: `${header}.${payload}.${signature.slice(0, 10)}+/=`,
      headerNotJson: `${b64("{not json")}.${payload}.${signature}`,
      headerNotObject: `${b64([1, 2])}.${payload}.${signature}`,
      noKid: `${b64({ alg: "RS256", typ: "JWT" })}.${payload}.${signature}`,
      emptyKid: `${b64({ alg: "RS256", kid: "", typ: "JWT" })}.${payload}.${signature}`,
      algNone: `${b64({ alg: "none", kid, typ: "JWT" })}.${payload}.${signature}`,
      algHs256: `${b64({ alg: "HS256", kid, typ: "JWT" })}.${payload}.${signature}`,
      payloadNotJson: `${header}.${b64("nope")}.${signature}`,
    };
    for (const [shape, token] of Object.entries(malformed)) {
      const res = await push(token);
      expect(res.status, shape).toBe(401);
      expect(res.body.error.code, shape).toBe("unauthorized");
      expectNoInternals(res);
    }
    expect(certsFetches()).toBe(0);
    const rejected = logLines.filter((l) => l.msg === "Gmail push rejected");
    expect(rejected).toHaveLength(Object.keys(malformed).length);
  });

  it("When the token's kid is not among Google's certs, then they are fetched again once and the push gets 401", async () => {
    const push = mailgate();
    await push(valid()).expect(204);
    expect(certsFetches()).toBe(1);

    const res = await push(withKid("0".repeat(40))).expect(401);
    expect(certsFetches()).toBe(2);
    expectNoInternals(res);

    // More made-up kids within the minute are refused from the refreshed certs.
    await push(withKid("1".repeat(40))).expect(401);
    await push(withKid("2".repeat(40))).expect(401);
    expect(certsFetches()).toBe(2);

    clockOffsetMs = CERTS_REFRESH_MIN_INTERVAL_MS + 1000;
    await push(withKid("3".repeat(40))).expect(401);
    expect(certsFetches()).toBe(3);
    await push(valid()).expect(204);
    expect(certsFetches()).toBe(3);
  });

  it("When the first push names an unknown kid, then the certs just fetched are not fetched again", async () => {
    const push = mailgate();
    await push(withKid("0".repeat(40))).expect(401);
    expect(certsFetches()).toBe(1);
  });

  it("When Google rotates its signing key after the certs were cached, then the push with the new kid refreshes them once and is accepted", async () => {
    const push = mailgate();
    await push(valid()).expect(204);
    google.oauth.rotateSigningKey();
    await push(valid()).expect(204);
    await push(valid()).expect(204);
    expect(certsFetches()).toBe(2);
  });

  it("When Google's certs endpoint answers 500, then a well-formed token gets a generic 503, a malformed one 401 without a fetch, and the outage is logged once", async () => {
    const push = mailgate();
    google.fail({ pathIncludes: CERTS_PATH, status: 500, reason: "backendError", times: 1000 });
    for (let i = 0; i < 2; i++) {
      const res = await push(valid()).expect(503);
      expect(res.body.error.code).toBe("not_ready");
      expectNoInternals(res);
    }
    const fetchesWhileDown = certsFetches();
    expect(fetchesWhileDown).toBeGreaterThan(0);
    await push("not-a-jwt").expect(401);
    await push(`${b64({ alg: "RS256", typ: "JWT" })}.${b64({})}.c2ln`).expect(401);
    expect(certsFetches()).toBe(fetchesWhileDown);

    const down = logLines.filter((l) => l.msg.startsWith("Google's signing certificates cannot be fetched"));
    expect(down).toHaveLength(1);
    expect(down[0]!.level).toBe(40);
    expect(logLines.filter((l) => l.msg === "Gmail push rejected")).toHaveLength(2); // the two malformed ones, not the 503s

    google.clearFailures();
    await push(valid()).expect(204);
    expect(logLines.filter((l) => l.msg.startsWith("Google's signing certificates can be fetched again"))).toHaveLength(1);
  });

  it("When nothing listens at the certs URL, then a well-formed token gets 503 without the address or the network error", async () => {
    const certsUrl = await closedPortUrl();
    const push = mailgate(() => ({ certsUrl }));
    const res = await push(valid()).expect(503);
    expect(res.body.error.code).toBe("not_ready");
    expectNoInternals(res);
    expect(res.text).not.toContain(new URL(certsUrl).port);
    const down = logLines.filter((l) => l.msg.startsWith("Google's signing certificates cannot be fetched"));
    expect(down).toHaveLength(1);
    expect(down[0]!.reason).toMatch(/ECONNREFUSED|fetch failed|connect/i);
  });

  it("When the certs host does not resolve, then a well-formed token gets 503 without the host name or the DNS error", async () => {
    const push = mailgate(() => ({ certsUrl: "http://certs.mailgate-test.invalid/oauth2/v1/certs" }));
    const res = await push(valid()).expect(503);
    expectNoInternals(res);
    expect(res.text).not.toContain("invalid");
  });

  it("When GMAIL_PUSH_SERVICE_ACCOUNT is not set, then pushes get 503 that does not name it, and the log says so once", async () => {
    const push = mailgate(() => ({ pushServiceAccount: undefined }));
    for (let i = 0; i < 3; i++) {
      const res = await push(valid()).expect(503);
      expectNoInternals(res);
    }
    expect(certsFetches()).toBe(0);
    const told = logLines.filter((l) => l.reason?.includes("GMAIL_PUSH_SERVICE_ACCOUNT"));
    expect(told).toHaveLength(1);
  });

  it("When a push carries no token, then it gets 401 saying authentication is needed", async () => {
    const push = mailgate();
    const res = await push(null).expect(401);
    expect(res.body.error.message).toMatch(/bearer token/);
    expect(certsFetches()).toBe(0);
  });
});
