// "Add Email Source" for mail forwarded to the SMTP listener: its addresses and AUTH login saved
// through the form, the password never shown again, and Test Connection saying the listener is on.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { signIn, startConsoleServer, type ConsoleServer } from "./console-server.ts";

describeInBrowser("console: an SMTP-listener source", () => {
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startConsoleServer({ env: { SMTP_LISTEN: "127.0.0.1:2525" } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("When an administrator adds a forwarded address with more addresses and an AUTH login, then it is saved, tested, and the edit form keeps the login without its password", async () => {
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.goto(`${server.consoleUrl}#/sources/new/smtp`);
    await page.getByLabel("More addresses").waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Forwarded support");
    await page.getByLabel("Email address").fill("support@msp.example");
    await page.getByLabel("More addresses").fill("help@msp.example\nsales@msp.example");
    await page.getByLabel("AUTH user").fill("relay");
    await page.getByLabel("AUTH password").fill("relay-password-1");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Saved. Connection OK").waitFor();
    expect(await page.locator(".outcome").textContent()).toContain("listen 127.0.0.1:2525");

    const { items } = (await server.t.api.get("/api/sources").expect(200)).body;
    expect(items[0]).toMatchObject({ kind: "smtp", addresses: ["help@msp.example", "sales@msp.example"], config: { auth: { user: "relay", hasPassword: true } } });
    await page.goto(`${server.consoleUrl}#/sources/edit/${items[0].id}`);
    await page.getByLabel("AUTH user").waitFor();
    expect(await page.getByLabel("AUTH user").inputValue()).toBe("relay");
    expect(await page.getByLabel("AUTH password").inputValue()).toBe("");
    expect(await page.getByLabel("More addresses").inputValue()).toBe("help@msp.example\nsales@msp.example");
    await page.close();
  });

  it("When an administrator gives a mailbox its own acknowledgement, then the source keeps it, the edit form shows it, and 'As in Ticket rules' clears it", async () => {
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.goto(`${server.consoleUrl}#/sources/new/smtp`);
    await page.getByLabel("More addresses").waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Acme desk");
    await page.getByLabel("Email address").fill("acme@in.msp.example");
    expect(await page.getByLabel("Acknowledgement text").isVisible()).toBe(false);
    await page.getByLabel("Acknowledgement", { exact: true }).selectOption("own");
    await page.getByLabel("Acknowledgement text").fill("The Acme desk has ticket {{ticket.number}}.");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Saved.").first().waitFor();

    const { items } = (await server.t.api.get("/api/sources").expect(200)).body;
    const desk = items.find((s: { address: string }) => s.address === "acme@in.msp.example");
    expect(desk.acknowledgement).toEqual({ enabled: true, text: "The Acme desk has ticket {{ticket.number}}." });

    await page.goto(`${server.consoleUrl}#/sources/edit/${desk.id}`);
    await page.getByLabel("Acknowledgement text").waitFor();
    expect(await page.getByLabel("Acknowledgement text").inputValue()).toBe("The Acme desk has ticket {{ticket.number}}.");
    await page.getByLabel("Acknowledgement", { exact: true }).selectOption("rules");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Saved.").first().waitFor();
    expect((await server.t.api.get(`/api/sources/${desk.id}`).expect(200)).body.acknowledgement).toBeNull();
    await page.close();
  });
});
