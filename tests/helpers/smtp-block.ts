// Gives a source an SMTP block pointing at a test SMTP receiver on loopback, through the API.
import { SMTP_PASSWORD, SMTP_USER } from "./smtp-receiver.ts";
import type { TestContext } from "./test-context.ts";

export async function giveSmtpBlock(t: TestContext, sourceId: string, port: number): Promise<void> {
  const res = await t.api
    .patch(`/api/sources/${sourceId}`)
    .send({ smtp: { host: "127.0.0.1", port, security: "none", user: SMTP_USER, password: SMTP_PASSWORD } });
  if (res.status !== 200) throw new Error(`PATCH smtp answered ${res.status}: ${JSON.stringify(res.body)}`);
}
