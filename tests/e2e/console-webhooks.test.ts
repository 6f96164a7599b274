// Webhooks: an endpoint added in the console (its secret shown once), a receiver answering 500 whose
// attempts show up in the deliveries, then Redeliver succeeding; test event and secret rotation.
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildEmail } from "../helpers/build-email.ts";
import { createCompany, createSource, postRaw } from "../helpers/pipeline.ts";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { screenshot, signIn, startConsoleServer, type ConsoleServer } from "./console-server.ts";
import { startReceiver, type Receiver } from "./webhook-receiver.ts";

describeInBrowser("console: webhooks", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let receiver: Receiver;
  let sourceId: string;
  beforeAll(async () => {
    receiver = await startReceiver();
    // Two quick attempts, then the delivery is exhausted.
    server = await startConsoleServer({ pipeline: true, webhooks: true, env: { WEBHOOK_RETRY_SCHEDULE: "0,1" } });
    sourceId = await createSource(server.t);
    await createCompany(server.t, "Acme Corporation", ["acme.com"]);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await receiver?.close();
  });

  it("When the endpoint answers 500, then its delivery shows every attempt, and after it recovers Redeliver succeeds with a signature the shown secret verifies", async () => {
    const page = await browser.context.newPage();
    page.on("dialog", (dialog) => void dialog.accept());
    await signIn(page, server);
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByText("No webhook endpoints yet.").waitFor();
    await page.getByLabel("URL", { exact: true }).fill(receiver.url);
    await page.getByLabel("Description").fill("PSA");
    await page.getByLabel("ticket.created").check();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secret = (await page.locator("code.secret").textContent())!;
    expect(secret).toMatch(/^whsec_/);
    expect(JSON.stringify((await server.t.api.get("/api/webhooks").expect(200)).body)).not.toContain(secret);
    await screenshot(page, "webhooks");

    await postRaw(server.t, sourceId, buildEmail({ from: "john@acme.com", subject: "Printer is broken" }));
    await page.getByRole("link", { name: "Deliveries" }).click();
    const row = page.locator("tr", { hasText: "ticket.created" });
    await expect.poll(() => row.locator(".badge").textContent(), { timeout: 20_000 }).toBe("exhausted");
    expect(await row.textContent()).toContain("HTTP 500");
    await row.getByText("2 attempts").click();
    const attempts = row.locator("ol.attempts li");
    expect(await attempts.count()).toBe(2);
    await expect.poll(() => attempts.first().textContent()).toContain("HTTP 500");
    expect(await attempts.first().textContent()).toContain("HTTP 500");
    expect(await attempts.first().textContent()).toContain("receiver is down");
    await screenshot(page, "webhook-deliveries");

    receiver.status = 200;
    await row.getByRole("button", { name: "Redeliver ticket.created" }).click();
    await page.getByText("The ticket.created delivery is queued again.").waitFor();
    await expect.poll(() => row.locator(".badge").textContent(), { timeout: 20_000 }).toBe("succeeded");
    const last = receiver.received.at(-1)!;
    const event = new Webhook(secret).verify(last.body, last.headers as Record<string, string>) as { type: string };
    expect(event.type).toBe("ticket.created");
    expect(receiver.received).toHaveLength(3);

    await page.getByRole("button", { name: `Send test event to ${receiver.url}` }).click();
    const test = page.locator("tr", { hasText: "webhook.test" });
    await expect.poll(() => test.locator(".badge").textContent(), { timeout: 20_000 }).toBe("succeeded");

    await page.getByRole("button", { name: "Rotate secret" }).click();
    const rotated = (await page.locator("code.secret").textContent())!;
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);

    await page.getByRole("link", { name: "Error log" }).click();
    await page.getByLabel("Kind").selectOption("delivery_failed");
    const { body: log } = await server.t.api.get("/api/errors?kind=delivery_failed").expect(200);
    expect(log.items).toHaveLength(1);
    const entry = page.locator("tbody tr");
    await expect.poll(async () => (await entry.textContent()) ?? "").toContain(log.items[0].message);
    expect(await entry.count()).toBe(1);
    await screenshot(page, "error-log");
    await page.close();
  });
});
