// Drives the real pipeline from tests: post raw MIME through the API, then process the queue.
import { processNextMessage } from "../../src/pipeline/worker.ts";
import type { TestContext } from "./test-context.ts";

export async function drainPipeline(t: TestContext, max = 10_000): Promise<number> {
  let n = 0;
  while (n < max && (await processNextMessage(t.ctx))) n++;
  return n;
}

export async function postRaw(t: TestContext, sourceId: string, raw: Buffer): Promise<string> {
  const res = await t.api.post(`/api/inbound?sourceId=${sourceId}`).set("Content-Type", "message/rfc822").send(raw);
  if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Posts, processes, and returns the inbound message as the API shows it. */
export async function deliver(t: TestContext, sourceId: string, raw: Buffer) {
  const id = await postRaw(t, sourceId, raw);
  await drainPipeline(t);
  const res = await t.api.get(`/api/inbound-messages/${id}`).expect(200);
  return res.body as { id: string; status: string; reason: string | null; ticketId: string | null; error: string | null; duplicateOf: string | null };
}

export async function createSource(t: TestContext, body: Record<string, unknown> = {}): Promise<string> {
  const res = await t.api
    .post("/api/sources")
    .send({ kind: "api", name: "Support", address: "support@mailgate.test", role: "system", ...body });
  if (res.status !== 201) throw new Error(`source create answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

export async function createCompany(t: TestContext, name: string, domains: string[] = [], extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t.api.post("/api/companies").send({ name, domains, ...extra });
  if (res.status !== 201) throw new Error(`company create answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}
