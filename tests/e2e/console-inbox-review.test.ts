// Inbox review: raw email posted through the API appears as it is processed; an unrouted one is
// mapped to a company from its row and becomes a ticket; ignored mail shows why; the raw message opens.
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildEmail } from "../helpers/build-email.ts";
import { createCompany, createSource, postRaw } from "../helpers/pipeline.ts";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { screenshot, signIn, startConsoleServer, type ConsoleServer } from "./console-server.ts";

describeInBrowser("console: inbox review", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let sourceId: string;
  beforeAll(async () => {
    server = await startConsoleServer({ pipeline: true });
    sourceId = await createSource(server.t, { name: "Support inbox" });
    await createCompany(server.t, "Acme Corporation", ["acme.com"]);
    await createCompany(server.t, "Newco");
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("When mail from an unmapped domain arrives while the review is open, then it appears as unrouted, and mapping its domain from the row turns it into a ticket", async () => {
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.getByRole("link", { name: "Inbox review" }).click();
    await page.getByText("No messages with this status.").waitFor();

    await postRaw(server.t, sourceId, buildEmail({ from: "Nina <nina@newco.example>", subject: "VPN keeps dropping", text: "Since Monday." }));
    const row = page.locator("tr", { hasText: "VPN keeps dropping" });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator(".badge").textContent()).toBe("unrouted");
    expect(await row.textContent()).toContain("nina@newco.example");

    await row.getByRole("button", { name: "View raw message: VPN keeps dropping" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    expect(await dialog.locator("pre").textContent()).toContain("Subject: VPN keeps dropping");
    await dialog.getByRole("button", { name: "Close" }).click();
    await screenshot(page, "inbox-review");

    await row.getByLabel("Map newco.example to").selectOption({ label: "Newco" });
    await row.getByRole("button", { name: "Map domain" }).click();
    await page.getByText("newco.example now belongs to Newco; 1 waiting message rerouted.").waitFor();
    await row.waitFor({ state: "detached", timeout: 15_000 });

    await page.getByRole("link", { name: "All messages" }).click();
    const ticketed = page.locator("tr", { hasText: "VPN keeps dropping" });
    await expect.poll(() => ticketed.locator(".badge").textContent(), { timeout: 15_000 }).toBe("ticket created");
    const { body: tickets } = await server.t.api.get("/api/tickets").expect(200);
    const ticket = tickets.items.find((t: { subject: string }) => t.subject === "VPN keeps dropping");
    expect(await ticketed.textContent()).toContain(`Ticket #${ticket.number}`);
    expect((await server.t.api.get(`/api/companies/${ticket.companyId}`)).body.name).toBe("Newco");
    await page.close();
  });

  it("When an auto-reply is ignored, then the Ignored tab shows its reason and Reprocess queues it again", async () => {
    const id = await postRaw(server.t, sourceId, buildEmail({ from: "john@acme.com", subject: "Out of office", headers: { "Auto-Submitted": "auto-replied" } }));
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.goto(`${server.consoleUrl}#/inbox/ignored`);
    const row = page.locator("tr", { hasText: "Out of office" });
    await row.waitFor({ timeout: 15_000 });
    const { body: message } = await server.t.api.get(`/api/inbound-messages/${id}`).expect(200);
    expect(message.reason).toMatch(/^auto_reply/);
    expect(await row.locator("td").nth(4).textContent()).toBe(message.reason);
    await row.getByRole("button", { name: "Reprocess: Out of office" }).click();
    await page.getByText("Queued for processing again: Out of office.").waitFor();
    await page.close();
  });

  it("When the sender's domain already belongs to another company, then mapping it is refused in words, and removing it there from the row lets it be mapped", async () => {
    const holder = await createCompany(server.t, "Initrode Holdings");
    await postRaw(server.t, sourceId, buildEmail({ from: "Pat <pat@initrode.example>", subject: "Badge reader offline" }));
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.getByRole("link", { name: "Inbox review" }).click();
    const row = page.locator("tr", { hasText: "Badge reader offline" });
    await row.waitFor({ timeout: 15_000 });
    // Mapped elsewhere without rerouting: the message keeps waiting.
    await server.t.api.post(`/api/companies/${holder}/domains`).send({ domain: "initrode.example", reroute: false }).expect(201);

    await row.getByLabel("Map initrode.example to").selectOption({ label: "Newco" });
    await row.getByRole("button", { name: "Map domain" }).click();
    const alert = row.getByRole("alert");
    await alert.getByRole("link", { name: "Open Initrode Holdings" }).waitFor();
    const said = await alert.textContent();
    expect(said).toContain("The domain initrode.example already belongs to the company Initrode Holdings");
    expect(said).not.toContain("/api/");

    await alert.getByRole("button", { name: "Remove initrode.example from Initrode Holdings" }).click();
    await row.getByText("Removed initrode.example from Initrode Holdings. Map initrode.example again.").waitFor();
    await row.getByRole("button", { name: "Map domain" }).click();
    await page.getByText("initrode.example now belongs to Newco; 1 waiting message rerouted.").waitFor();
    expect((await server.t.api.get(`/api/companies/${holder}`)).body.domains).toEqual([]);
    await page.close();
  });
});
