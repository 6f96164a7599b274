// A ticket's page: mail seeded through the API (a first mail with an attachment, then the
// customer's answer) shown in order with the attachment downloadable and each raw message; the
// webhook deliveries of its events; and a reply sent from the page through the source's SMTP
// server, shown on the ticket as queued, then sent.
import { readFileSync } from "node:fs";
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

const LOG = "Error E-52 at 09:14\nPaper path blocked\n";

describeInBrowser("console: a ticket's page", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let smtp: FakeSmtp;
  let receiver: Receiver;
  let page: Page;
  let said: string[];
  let ticket: { id: string; number: number };

  beforeAll(async () => {
    smtp = await startFakeSmtp({ plain: true });
    receiver = await startReceiver(204);
    server = await startConsoleServer({ pipeline: true, webhooks: true, outbound: true });
    const t = server.t;
    await createCompany(t, "Acme Corporation", ["acme.com"]);
    const sourceId = await createSource(t, { name: "Support inbox" });
    await giveSmtpBlock(t, sourceId, smtp);
    await t.api.post("/api/webhooks").send({ url: receiver.url }).expect(201);

    await postRaw(
      t,
      sourceId,
      buildEmail({
        from: "John Smith <john@acme.com>",
        subject: "Printer is broken",
        messageId: "<printer-1@acme.com>",
        text: "It shows E-52 and jams.",
        attachments: [{ filename: "printer.log", contentType: "text/plain", content: LOG }],
      }),
    );
    await waitFor(async () => (await t.api.get("/api/tickets")).body.items.length === 1, 20_000);
    ticket = (await t.api.get("/api/tickets")).body.items[0];
    await postRaw(t, sourceId, buildEmail({ from: "John Smith <john@acme.com>", subject: "Re: Printer is broken", inReplyTo: "<printer-1@acme.com>", text: "Still jamming after a restart." }));
    await waitFor(async () => (await t.api.get(`/api/tickets/${ticket.id}`)).body.messages.length === 2, 20_000);
    await waitFor(() => receiver.received.length === 2, 20_000);

    browser = await launchChromium();
    page = await browser.context.newPage();
    said = watchConsole(page);
    await signIn(page, server, { at: `#/tickets/${ticket.id}`, heading: `Ticket #${ticket.number}: Printer is broken` });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await smtp?.close();
    await receiver?.close();
  });

  it("When the ticket opens, then its messages are shown oldest first with their senders and texts", async () => {
    const messages = page.locator("article.message");
    await expect.poll(() => messages.count()).toBe(2);
    expect(await messages.locator("h3").allTextContents()).toEqual(["Printer is broken", "Re: Printer is broken"]);
    expect(await messages.nth(0).locator(".message-body").textContent()).toContain("It shows E-52 and jams.");
    expect(await messages.nth(1).locator(".message-body").textContent()).toContain("Still jamming after a restart.");
    expect(await messages.nth(0).locator(".message-head strong").textContent()).toBe("John Smith <john@acme.com>");
    expect(await messages.nth(1).locator(".badge").first().textContent()).toBe("incoming reply");
  });

  it("When the attachment's link is followed, then the file downloads with its name and bytes", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download printer.log" }).click()]);
    expect(download.suggestedFilename()).toBe("printer.log");
    expect(readFileSync((await download.path())!, "utf8")).toBe(LOG);
  });

  it("When a message's raw link is followed, then its raw MIME is shown, and can be downloaded as it was stored", async () => {
    await page.getByRole("link", { name: "Raw message: Re: Printer is broken" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    const raw = await dialog.locator("pre").textContent();
    expect(raw).toContain("Subject: Re: Printer is broken");
    expect(raw).toContain("In-Reply-To: <printer-1@acme.com>");
    const [download] = await Promise.all([page.waitForEvent("download"), dialog.getByRole("link", { name: "Download .eml" }).click()]);
    const inboundId = (await server.t.api.get(`/api/tickets/${ticket.id}`)).body.messages[1].inboundMessageId;
    expect(download.suggestedFilename()).toBe(`${inboundId}.eml`);
    expect(readFileSync((await download.path())!, "utf8")).toBe((await server.t.api.get(`/api/inbound-messages/${inboundId}/raw`)).text);
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "hidden" });
  });

  it("When the ticket's events were delivered, then the page lists each delivery to the endpoint with its outcome", async () => {
    const rows = page.locator("tr", { hasText: receiver.url });
    await expect.poll(() => rows.count()).toBe(2);
    expect((await rows.locator("code").allTextContents()).sort()).toEqual(["ticket.created", "ticket.reply_received"]);
    expect(await rows.locator(".badge").allTextContents()).toEqual(["succeeded", "succeeded"]);
    expect(await rows.first().textContent()).toContain("HTTP 204");
  });

  it("When a reply is sent from the page, then it goes out through SMTP and shows on the ticket as queued or sending, then sent", async () => {
    const statuses: string[] = [];
    page.on("response", async (res) => {
      if (res.url().includes("/api/outbound-messages?ticketId=")) {
        for (const item of (await res.json().catch(() => ({ items: [] }))).items as { status: string }[]) statuses.push(item.status);
      }
    });
    await page.getByLabel("Your reply").fill("We replaced the toner.\nIt prints again.");
    await page.getByLabel("Cc").fill("boss@acme.com");
    await page.getByRole("button", { name: "Send reply" }).click();
    await page.getByText("Reply queued to john@acme.com; its status shows on the message above.").waitFor();

    const sent = page.locator("article.message.outbound");
    await sent.waitFor();
    expect(await sent.locator("h3").textContent()).toBe(`Re: [Ticket #${ticket.number}] Printer is broken`);
    expect(await sent.locator(".message-body").textContent()).toBe("We replaced the toner.\nIt prints again.");
    expect(await sent.locator(".small.muted").first().textContent()).toBe("To: John Smith <john@acme.com> · Cc: boss@acme.com");
    await expect.poll(() => sent.locator(".outbound-status .badge").textContent(), { timeout: 20_000 }).toBe("sent");
    // What the page was told on the way: only the states of a mail being sent (the order of the
    // answers' bodies is not kept here).
    await expect.poll(() => statuses.includes("sent")).toBe(true);
    expect(new Set(statuses), `statuses the page saw: ${statuses.join(", ")}`).toSatisfy((seen: Set<string>) => [...seen].every((s) => ["queued", "sending", "sent"].includes(s)));

    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.to.sort()).toEqual(["boss@acme.com", "john@acme.com"]);
    expect(smtp.received[0]!.raw.toString("utf8")).toContain("We replaced the toner.");
    // Its raw message is the one sent; its message.sent event is delivered like the others.
    await sent.getByRole("link", { name: /^Raw message: Re: \[Ticket/ }).click();
    expect(await page.getByRole("dialog").locator("pre").textContent()).toContain("We replaced the toner.");
    await page.getByRole("dialog").getByRole("button", { name: "Close" }).click();
    await expect.poll(() => page.locator("tr", { hasText: "message.sent" }).locator(".badge").textContent(), { timeout: 20_000 }).toBe("succeeded");
    await screenshot(page, "ticket");
    expect(said).toEqual([]);
  });
});
