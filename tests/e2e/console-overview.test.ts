// The Overview: mail seeded through the API (tickets, a note, an auto-reply, a duplicate, an
// unrouted one), webhook deliveries to a receiver that answers and one that does not, and a reply
// sent through SMTP; the page's charts are drawn with that data, and every number it shows is the
// one GET /api/stats answers for the same window.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildEmail } from "../helpers/build-email.ts";
import { createCompany, createSource, postRaw } from "../helpers/pipeline.ts";
import { giveSmtpBlock } from "../helpers/smtp-block.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { startFakeSmtp, type FakeSmtp } from "../fakes/smtp/smtp-server.ts";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { screenshot, signIn, startConsoleServer, watchConsole, type ConsoleServer } from "./console-server.ts";
import { startReceiver, type Receiver } from "./webhook-receiver.ts";

/** How many hours a stats request's window spans. */
const hoursOf = (url: string) => {
  const q = new URLSearchParams(url.slice(url.indexOf("?")));
  return (Date.parse(q.get("to")!) - Date.parse(q.get("from")!)) / 3_600_000;
};

type Stats = {
  bucket: string;
  totals: Record<string, number> & { latencyMs: { count: number; p50: number | null; p95: number | null } };
  sources: { id: string; received: number[] }[];
  attention: Record<string, number>;
};

/** Browser JavaScript for locator.evaluate (these tests are typed without the DOM's names). */
const inPage = <R>(source: string) => new Function(`return (${source})`)() as (el: unknown, arg?: unknown) => R;

/** How many pixels of the chart's canvas are (nearly) the colour a series is painted in. */
const pixelsOf = (page: Page, chart: string, hex: string) =>
  page.locator("figure", { has: page.getByRole("heading", { name: chart, exact: true }) }).locator("canvas").first().evaluate(
    inPage<number>(`(canvas, hex) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      // Read from a copy made for reading, so the page's own canvas is left as it draws it.
      const copy = document.createElement("canvas");
      [copy.width, copy.height] = [canvas.width, canvas.height];
      const ctx = copy.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(canvas, 0, 0);
      const { data } = ctx.getImageData(0, 0, copy.width, copy.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - r) < 12 && Math.abs(data[i + 1] - g) < 12 && Math.abs(data[i + 2] - b) < 12 && data[i + 3] > 200) n++;
      return n;
    }`),
    hex,
  );

describeInBrowser("console: overview", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let smtp: FakeSmtp;
  let up: Receiver;
  let down: Receiver;
  let sourceId: string;

  beforeAll(async () => {
    smtp = await startFakeSmtp({ plain: true });
    up = await startReceiver(204);
    down = await startReceiver(500);
    // Two quick attempts, then a delivery to the receiver that is down is exhausted.
    server = await startConsoleServer({ pipeline: true, webhooks: true, outbound: true, env: { WEBHOOK_RETRY_SCHEDULE: "0,1" } });
    const t = server.t;
    await createCompany(t, "Acme Corporation", ["acme.com"]);
    sourceId = await createSource(t, { name: "Support inbox" });
    await giveSmtpBlock(t, sourceId, smtp);
    await t.api.post("/api/webhooks").send({ url: up.url }).expect(201);
    await t.api.post("/api/webhooks").send({ url: down.url, events: ["ticket.created"] }).expect(201);

    const drained = () => waitFor(async () => (await t.api.get("/api/inbound-messages?status=received")).body.items.length === 0, 20_000);
    for (const [i, subject] of ["Printer is broken", "VPN drops", "New laptop"].entries()) {
      await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject, messageId: `<first-${i}@acme.com>` }));
    }
    // The first mails are tickets before their answer and their second copy come.
    await drained();
    await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Re: Printer is broken", inReplyTo: "<first-0@acme.com>" }));
    await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "Out of office", headers: { "Auto-Submitted": "auto-replied" } }));
    await postRaw(t, sourceId, buildEmail({ from: "john@acme.com", subject: "VPN drops", messageId: "<first-1@acme.com>", text: "the same mail, forwarded again" }));
    await postRaw(t, sourceId, buildEmail({ from: "nina@newco.example", subject: "Who handles this?" }));
    await drained();

    const { body: tickets } = await t.api.get("/api/tickets?q=printer").expect(200);
    await t.api.post(`/api/tickets/${tickets.items[0].id}/replies`).send({ text: "We replaced the toner." }).expect(202);
    await waitFor(() => smtp.received.length === 1, 20_000);
    await waitFor(async () => (await t.api.get("/api/outbound-messages?status=sent")).body.items.length === 1, 20_000);
    await waitFor(async () => {
      const endpoints = (await t.api.get("/api/webhooks")).body.items as { id: string }[];
      const pending = await Promise.all(endpoints.map(async (e) => (await t.api.get(`/api/webhooks/${e.id}/deliveries?status=pending`)).body.items.length));
      return pending.every((n) => n === 0);
    }, 20_000);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await smtp?.close();
    await up?.close();
    await down?.close();
  });

  it("When an administrator signs in, then the overview draws every chart with the seeded mail, and each number on it is the one GET /api/stats answers for its window", async () => {
    const page = await browser.context.newPage();
    const said = watchConsole(page);
    const asked: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/stats?")) asked.push(r.url().slice(r.url().indexOf("/api/stats?")));
    });
    await signIn(page, server);
    await page.locator("figure").first().waitFor();

    // The 24-hour view by default; what the page asked, asked again: the same numbers.
    const main = asked.find((url) => url.includes("bucket=15m") && hoursOf(url) === 24);
    expect(main, `stats requests: ${asked.join(", ")}`).toBeDefined();
    const stats = (await server.t.api.get(main!).expect(200)).body as Stats;
    const totals = page.locator(".totals [data-total]");
    const shown = Object.fromEntries(await totals.evaluateAll(inPage<[string, string][]>(`(els) => els.map((el) => [el.dataset.total, el.querySelector("dd").dataset.value])`)));
    const expected: Record<string, number | null | undefined> = {
      ...Object.fromEntries(["received", "ticketCreated", "noteAdded", "leadCreated", "ignored", "duplicate", "unrouted", "failed", "deliveriesSucceeded", "deliveriesFailed", "outboundSent", "outboundFailed"].map((k) => [k, stats.totals[k]])),
      latencyP50: stats.totals.latencyMs.p50,
      latencyP95: stats.totals.latencyMs.p95,
      latencyCount: stats.totals.latencyMs.count,
      deliveriesBacklog: stats.attention.deliveriesBacklog,
    };
    expect(shown).toEqual(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v === null || v === undefined ? "" : String(v)])));
    // And the numbers are the seeded mail's, whoever counts them.
    expect(stats.totals).toMatchObject({ received: 7, ticketCreated: 3, noteAdded: 1, ignored: 1, duplicate: 1, unrouted: 1, failed: 0, outboundSent: 1 });
    expect(stats.totals.deliveriesSucceeded).toBeGreaterThanOrEqual(5);
    expect(stats.totals.deliveriesFailed).toBeGreaterThanOrEqual(3);
    expect(await page.locator('[data-total="received"] dd').textContent()).toBe("7");

    // What needs a person: each count as the API says, linked to the screen that handles it.
    for (const [key, count] of Object.entries(stats.attention)) {
      const item = page.locator(`[data-attention="${key}"]`);
      if (count === 0) expect(await item.count(), key).toBe(0);
      else expect(await item.locator(".count").textContent(), key).toBe(count.toLocaleString("en-US"));
    }
    expect(stats.attention.unrouted).toBe(1);
    expect(await page.locator('[data-attention="unrouted"] a').getAttribute("href")).toBe("#/inbox/unrouted");
    expect(stats.attention.endpointsFailing).toBe(1);
    expect(await page.locator('[data-attention="endpointsFailing"] a').getAttribute("href")).toBe("#/webhooks");

    // The charts are drawn, with their series in their colours.
    await expect.poll(() => pixelsOf(page, "Mail", "#1b7a3d"), { message: "tickets' bars" }).toBeGreaterThan(20);
    await expect.poll(() => pixelsOf(page, "Mail", "#18212e"), { message: "the received line" }).toBeGreaterThan(5);
    // The p95 point may cover the p50 one: all the mail came within one bucket.
    const percentiles = async () => (await pixelsOf(page, "Time to ticket", "#1f5fbf")) + (await pixelsOf(page, "Time to ticket", "#b3261e"));
    await expect.poll(percentiles, { message: "p50 and p95 points" }).toBeGreaterThan(5);
    await expect.poll(() => pixelsOf(page, "Webhook deliveries", "#1b7a3d"), { message: "succeeded bars" }).toBeGreaterThan(20);
    await expect.poll(() => pixelsOf(page, "Webhook deliveries", "#b3261e"), { message: "failed bars" }).toBeGreaterThan(20);
    await expect.poll(() => pixelsOf(page, "Outgoing mail", "#1b7a3d"), { message: "sent bars" }).toBeGreaterThan(20);

    // The source's tile: its mail in the last hour as the API counts it, and its 24-hour sparkline.
    const tile = page.locator(`[data-source-id="${sourceId}"]`);
    const hourUrl = asked.find((url) => url.includes("bucket=minute") && hoursOf(url) === 1);
    const lastHour = (await server.t.api.get(hourUrl!).expect(200)).body as Stats;
    const inLastHour = lastHour.sources.find((s) => s.id === sourceId)!.received.reduce((a, b) => a + b, 0);
    expect(inLastHour).toBe(7);
    expect(await tile.locator('[data-fact="last-hour"] dd').textContent()).toBe(String(inLastHour));
    expect(await tile.locator(".badge").textContent()).toBe("connected");
    expect(await tile.locator(".sparkline canvas").count()).toBe(1);
    expect(await tile.locator(".sparkline").getAttribute("aria-label")).toBe("7 emails received in the last 24 hours, by the hour");
    await screenshot(page, "overview");

    // Another window: another bucket, and again the API's numbers.
    await page.getByRole("link", { name: "7 days" }).click();
    await page.waitForURL(/#\/overview\/7d$/);
    await expect.poll(() => asked.some((url) => url.includes("bucket=hour") && hoursOf(url) === 168)).toBe(true);
    await page.locator('.tabs a[aria-current="page"]', { hasText: "7 days" }).waitFor();
    const week = asked.find((url) => url.includes("bucket=hour") && hoursOf(url) === 168)!;
    const weekStats = (await server.t.api.get(week).expect(200)).body as Stats;
    await expect.poll(() => page.locator('[data-total="received"] dd').getAttribute("data-value")).toBe(String(weekStats.totals.received));
    await expect.poll(() => pixelsOf(page, "Mail", "#1b7a3d")).toBeGreaterThan(5);

    expect(said).toEqual([]);
    await page.close();
  });
});
