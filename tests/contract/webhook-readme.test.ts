import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/delivery/event-types.ts";
import { generateWebhookSecret, signWebhook } from "../../src/delivery/sign-webhook.ts";

const README = readFileSync(new URL("../../webhooks/README.md", import.meta.url), "utf8");

/** The fenced code block that follows `<!-- snippet: name ... -->`. */
function snippet(name: string): string {
  const match = new RegExp(`<!-- snippet: ${name}\\b[^>]*-->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!match?.[1]) throw new Error(`webhooks/README.md has no js block after <!-- snippet: ${name} -->`);
  return match[1];
}

type Verify = (secret: string, headers: Record<string, string>, body: string) => boolean;

describe("webhooks/README.md", () => {
  let verifyWebhook: Verify;
  beforeAll(async () => {
    // Run the code exactly as a reader would copy it.
    const file = join(mkdtempSync(join(tmpdir(), "mailgate-readme-")), "verify.mjs");
    writeFileSync(file, snippet("verify-node"));
    ({ verifyWebhook } = (await import(pathToFileURL(file).href)) as { verifyWebhook: Verify });
  });

  const secret = generateWebhookSecret();
  const body = JSON.stringify({ type: "webhook.test", timestamp: new Date().toISOString(), data: { message: "hi ünïcode", endpointId: "x" } });

  it("lists every event type in its catalogue, with its schema and example", () => {
    for (const type of EVENT_TYPES) {
      expect(README).toContain(`[\`${type}\`](schemas/${type}.schema.json)`);
      expect(README).toContain(`(examples/${type}.json)`);
    }
  });

  it("shows a plain-Node check that accepts what mailgate signs, with either secret during a rotation", () => {
    const old = generateWebhookSecret();
    const headers = signWebhook({ id: "evt_1", timestamp: new Date(), body, secrets: [secret, old] });
    expect(verifyWebhook(secret, headers, body)).toBe(true);
    expect(verifyWebhook(old, headers, body)).toBe(true);
  });

  it("shows a plain-Node check that rejects a changed body, a wrong secret, a stale or unreadable timestamp and missing headers", () => {
    const headers = signWebhook({ id: "evt_1", timestamp: new Date(), body, secrets: [secret] });
    expect(verifyWebhook(secret, headers, body.replace("hi", "ho"))).toBe(false);
    expect(verifyWebhook(generateWebhookSecret(), headers, body)).toBe(false);
    const stale = signWebhook({ id: "evt_1", timestamp: new Date(Date.now() - 6 * 60_000), body, secrets: [secret] });
    expect(verifyWebhook(secret, stale, body)).toBe(false);
    expect(verifyWebhook(secret, { ...headers, "webhook-timestamp": "soon" }, body)).toBe(false);
    expect(verifyWebhook(secret, { "webhook-id": "evt_1" }, body)).toBe(false);
  });
});
