// "Add Email Source" for Gmail: the redirect URI to paste, the API's field errors in place, and
// Authorize through a popup to a loopback fake of Google's consent, back to a connected source.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFakeGoogle, TOPIC, type FakeGoogle } from "../fakes/google/fake-google.ts";
import { buildEmail } from "../helpers/build-email.ts";
import { updateSource } from "../../src/db/sources.ts";
import { createCompany, createSource, deliver } from "../helpers/pipeline.ts";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { screenshot, signIn, startConsoleServer, type ConsoleServer } from "./console-server.ts";

describeInBrowser("console: a Gmail source", () => {
  let google: FakeGoogle;
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    google = await startFakeGoogle();
    server = await startConsoleServer({ env: google.env() });
    google.client.redirectUris.push(`${server.origin}/admin/oauth/google/callback`);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await google?.close();
  });

  it("When an administrator saves an incomplete Gmail form, then each field shows the API's problem with it", async () => {
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.goto(`${server.consoleUrl}#/sources/new/gmail`);
    expect(await page.getByRole("textbox", { name: "Redirect URI" }).inputValue()).toBe(`${server.origin}/admin/oauth/google/callback`);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toContain("Invalid request");
    const clientId = page.getByLabel("Client ID");
    expect(await clientId.getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator(".field", { has: clientId }).locator(".field-error").textContent()).toBe("must not be empty");
    expect(await page.locator(".field", { has: page.getByLabel("Email address") }).locator(".field-error").textContent()).toContain("expected an email address");
    await page.close();
  });

  it("When an administrator adds a Gmail source and authorizes it in the popup, then the list shows it connected with Re-authorize and its watch's expiry, next to a company mailbox with its company and message counts and an IMAP mailbox with its last error", async () => {
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.getByRole("link", { name: "Email sources" }).click();
    await page.getByRole("link", { name: "Add Email Source" }).first().click();
    await page.getByRole("link", { name: "Gmail (OAuth2)" }).click();
    // The IMAP form stays until the Gmail one replaces it (hashchange comes after the click): its
    // Name field, filled then, was gone with it.
    await page.getByLabel("Client ID").waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Support (Gmail)");
    await page.getByLabel("Email address").fill(google.mailbox.emailAddress);
    await page.getByLabel("Client ID").fill(google.client.clientId);
    await page.getByLabel("Client Secret").fill(google.client.clientSecret);
    await page.getByLabel("Pub/Sub topic").fill(TOPIC);
    await screenshot(page, "add-gmail-source");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Saved. Next: click Authorize").waitFor();

    const [popup] = await Promise.all([page.waitForEvent("popup"), page.getByRole("button", { name: "Authorize" }).click()]);
    await popup.getByRole("heading", { name: "Gmail connected" }).waitFor();
    expect(popup.url().startsWith(`${server.origin}/admin/oauth/google/callback?`)).toBe(true);
    expect(await popup.evaluate<boolean>("window.opener === null")).toBe(true);
    await popup.close();

    await page.getByRole("heading", { level: 1, name: "Email sources" }).waitFor();
    // A company mailbox next to it, with mail in it, for the list to show both roles and the counts.
    const initech = await createCompany(server.t, "Initech", ["initech.com"]);
    const deskId = await createSource(server.t, { name: "Initech desk", address: "help@initech.com", role: "company", companyId: initech });
    await deliver(server.t, deskId, buildEmail({ from: "bill@initech.com", to: "help@initech.com", subject: "TPS reports" }));
    // And an IMAP mailbox whose password was refused, for the list to show a last error.
    const imapId = await createSource(server.t, {
      kind: "imap",
      name: "Billing inbox",
      address: "billing@acme-help.test",
      imap: { host: "imap.fastmail.com", port: 993, security: "ssl", user: "billing@acme-help.test", password: "an-old-password" },
    });
    const now = new Date();
    const refused = 'IMAP login failed for user billing@acme-help.test: the server said "[AUTHENTICATIONFAILED] Authentication failed."; check the password or use an app-specific password.';
    await updateSource(server.t.ctx.db, imapId, { status: "error", lastError: refused, lastErrorAt: now }, now);
    await page.reload();
    const desk = page.locator("tr", { hasText: "Initech desk" });
    await desk.waitFor();
    expect(await desk.locator("td").nth(0).locator("div").allTextContents()).toEqual(["Company mailbox: Initech", "Continuous"]);
    expect(await desk.locator("td").nth(1).locator(".small").first().textContent()).toBe("1 ticket");
    expect(await page.locator("tr", { hasText: "Billing inbox" }).locator(".error-text").textContent()).toBe(refused);
    const row = page.locator("tr", { hasText: "Support (Gmail)" });
    expect(await row.locator(".badge").first().textContent()).toBe("connected");
    const expiry = await row.locator(".subscription time").getAttribute("datetime");
    expect(new Date(expiry!).getTime()).toBe(google.watch!.expiration);
    // Authorized: Re-authorize moves from the row into its Actions menu.
    expect(await row.getByRole("button", { name: "Authorize", exact: true, includeHidden: true }).count()).toBe(0);
    await row.getByRole("button", { name: "Actions for Support (Gmail)" }).click();
    await row.getByRole("button", { name: "Re-authorize" }).waitFor();
    await screenshot(page, "email-sources");
    await page.keyboard.press("Escape");

    await page.getByRole("link", { name: "Subscriptions" }).click();
    const sub = page.locator("tr", { hasText: "Support (Gmail)" });
    expect(await sub.textContent()).toContain("Gmail");
    await page.getByRole("button", { name: "Renew all now" }).click();
    await page.getByText("1 of 1 renewed.").waitFor();
    await screenshot(page, "subscriptions");
    await page.close();
  });
});
