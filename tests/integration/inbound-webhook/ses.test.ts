// Amazon SES through SNS posting to POST /push/inbound/:sourceId/ses: the test is SNS. It makes
// an RSA signing certificate, serves it (and the subscription confirmation URL) from a loopback
// https server that SNS_CERT_URL_BASE allows, and signs each message as AWS documents.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inboundMessages } from "../../../src/db/schema.ts";
import { makeSelfSignedCertificate } from "../../../src/sources/smtp/self-signed-certificate.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, drainPipeline } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";
import { sesReceipt, signSns } from "./provider-requests.ts";

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:mailgate-inbound";

let t: TestContext;
let sns: Server;
let base: string;
let dir: string;
let sourceId: string;
const signer = makeSelfSignedCertificate("localhost", new Date(), 30, "rsa");
const stranger = makeSelfSignedCertificate("localhost", new Date(), 30, "rsa");
const requests: string[] = [];

beforeAll(async () => {
  // The https server's own certificate is the signing one: one file to trust (SNS_CA_FILE).
  sns = createServer({ cert: signer.cert, key: signer.key }, (req, res) => {
    requests.push(req.url ?? "");
    if (req.url === "/sns/SimpleNotificationService-test.pem") return void res.writeHead(200, { "content-type": "application/x-pem-file" }).end(signer.cert);
    if (req.url === "/sns/not-a-certificate.pem") return void res.writeHead(200).end("hello");
    if (req.url?.startsWith("/sns/?Action=ConfirmSubscription")) return void res.writeHead(200, { "content-type": "text/xml" }).end("<ConfirmSubscriptionResponse/>");
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => sns.listen(0, "127.0.0.1", resolve));
  base = `https://localhost:${(sns.address() as AddressInfo).port}/sns`;
  dir = mkdtempSync(path.join(os.tmpdir(), "mailgate-sns-"));
  writeFileSync(path.join(dir, "ca.pem"), signer.cert);
  t = await createTestContext({ env: { SNS_CERT_URL_BASE: base, SNS_CA_FILE: path.join(dir, "ca.pem") } });
  await createCompany(t, "Acme", ["acme.com"]);
  sourceId = (await t.api.post("/api/sources").send({ kind: "inbound-webhook", name: "SES", address: "support@mailgate.test", role: "system", config: { provider: "ses", topicArn: TOPIC } }).expect(201)).body.id;
});
afterAll(async () => {
  await t.close();
  await new Promise((resolve) => sns.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const stored = async () => (await t.ctx.db.select({ n: count() }).from(inboundMessages))[0]!.n;

const notification = (raw: Buffer, over: Record<string, string> = {}, key = signer.key, version: "1" | "2" = "2") =>
  signSns(
    {
      Type: "Notification",
      MessageId: randomUUID(),
      TopicArn: TOPIC,
      Subject: "Amazon SES Email Receipt Notification",
      Message: sesReceipt(raw, "BASE64"),
      Timestamp: new Date().toISOString(),
      SigningCertURL: `${base}/SimpleNotificationService-test.pem`,
      UnsubscribeURL: `${base}/?Action=Unsubscribe`,
      ...over,
    },
    key,
    version,
  );

const post = (body: Record<string, string>) =>
  t.anonymous
    .post(`/push/inbound/${sourceId}/ses`)
    .set("Content-Type", "text/plain; charset=UTF-8")
    .set("x-amz-sns-message-type", body.Type!)
    .set("x-amz-sns-topic-arn", body.TopicArn!)
    .send(JSON.stringify(body));

describe("ses through sns", () => {
  it("When SNS asks to confirm the subscription, then the signature is verified, the SubscribeURL fetched and 200 answered", async () => {
    const subscribeUrl = `${base}/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=abc123`;
    const confirmation = signSns(
      {
        Type: "SubscriptionConfirmation",
        MessageId: randomUUID(),
        Token: "abc123",
        TopicArn: TOPIC,
        Message: `You have chosen to subscribe to the topic ${TOPIC}.`,
        SubscribeURL: subscribeUrl,
        Timestamp: new Date().toISOString(),
        SigningCertURL: `${base}/SimpleNotificationService-test.pem`,
      },
      signer.key,
      "1",
    );
    const res = await post(confirmation).expect(200);
    expect(res.body).toMatchObject({ confirmed: true });
    expect(requests).toContain(new URL(subscribeUrl).pathname + new URL(subscribeUrl).search);
  });

  it("When SES's notification carries the raw message in base64 (SignatureVersion 2 or 1), then it becomes a ticket", async () => {
    const res = await post(notification(buildEmail({ subject: "SES: VPN down" }))).expect(200);
    expect(res.body.created).toBe(true);
    await drainPipeline(t);
    const message = (await t.api.get(`/api/inbound-messages/${res.body.id}`).expect(200)).body;
    expect(message).toMatchObject({ status: "ticket_created", subject: "SES: VPN down" });
    await post(notification(buildEmail({ subject: "SES v1" }), {}, signer.key, "1")).expect(200);
  });

  it("When the signature is forged, the topic is another, or the certificate URL is outside the allowed base, then 401 and nothing is stored", async () => {
    const before = await stored();
    const raw = buildEmail({ subject: "forged SES" });
    await post(notification(raw, {}, stranger.key)).expect(401);
    const tampered = { ...notification(raw), Message: sesReceipt(buildEmail({ subject: "swapped" }), "BASE64") };
    await post(tampered).expect(401);
    await post(notification(raw, { TopicArn: "arn:aws:sns:eu-west-1:123456789012:someone-else" })).expect(401);
    await post(notification(raw, { SigningCertURL: "https://evil.example/SimpleNotificationService-test.pem" })).expect(401);
    await post(notification(raw, { SigningCertURL: "http://sns.eu-west-1.amazonaws.com/cert.pem" })).expect(401);
    expect(await stored()).toBe(before);
  });

  it("When a signed notification is older than SNS ever retries (a replay), then 401 and nothing is stored; one from a retry within the hour is taken", async () => {
    const before = await stored();
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();
    const replay = await post(notification(buildEmail({ subject: "captured long ago" }), { Timestamp: hoursAgo(3) })).expect(401);
    expect(replay.body.error).toMatchObject({ code: "unauthorized" });
    expect(replay.body.error.message).toContain("Timestamp");
    expect(await stored()).toBe(before);
    const lateRetry = await post(notification(buildEmail({ subject: "retried for an hour" }), { Timestamp: hoursAgo(1) })).expect(200);
    expect(lateRetry.body.created).toBe(true);
    expect(await stored()).toBe(before + 1);
  });

  it("When SES stored a large mail with an S3 action and notifies without its content, then 400 points to the docs and nothing is stored", async () => {
    const before = await stored();
    const s3Receipt = JSON.stringify({
      notificationType: "Received",
      mail: { source: "john@acme.com", messageId: "large-1", destination: ["support@mailgate.test"] },
      receipt: { recipients: ["support@mailgate.test"], action: { type: "S3", topicArn: TOPIC, bucketName: "mail", objectKey: "large-1" } },
    });
    const res = await post(notification(Buffer.alloc(0), { Message: s3Receipt })).expect(400);
    expect(res.body.error.message).toContain("Mail over 150 KB");
    expect(await stored()).toBe(before);
  });

  it("When the certificate URL answers no certificate, then 401; when it cannot be fetched now, then 503 so SNS retries", async () => {
    const before = await stored();
    const raw = buildEmail({ subject: "certificate trouble" });
    await post(notification(raw, { SigningCertURL: `${base}/not-a-certificate.pem` })).expect(401);
    const res = await post(notification(raw, { SigningCertURL: `${base}/missing.pem` })).expect(503);
    expect(res.body.error.code).toBe("sns_unavailable");
    expect(await stored()).toBe(before);
  });

  it("When the body is not an SNS message, then 400 says what is wrong", async () => {
    const res = await t.anonymous.post(`/push/inbound/${sourceId}/ses`).set("Content-Type", "application/json").send("{\"hello\":1}").expect(400);
    expect(res.body.error.message).toMatch(/Type/);
  });
});
