// "Add Email Source" for IMAP against a real Dovecot: Save and Test Connection in the form, then
// Test Connection and Process Now from the list, each with its result in place.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startDovecot, type DovecotServer, type TestAccount } from "../fakes/dovecot/dovecot-server.ts";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { screenshot, signIn, startConsoleServer, type ConsoleServer } from "./console-server.ts";

describeInBrowser(
  "console: an IMAP source",
  () => {
    let dovecot: DovecotServer;
    let account: TestAccount;
    let server: ConsoleServer;
    let browser: Browser;
    beforeAll(async () => {
      dovecot = await startDovecot({ accounts: 1 });
      account = dovecot.takeAccount();
      const mail = await dovecot.connect(account.user, account.password);
      await mail.append("INBOX", "From: john@acme.com\r\nSubject: Printer\r\n\r\nIt jams.\r\n");
      await mail.logout();
      server = await startConsoleServer();
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await dovecot?.stop();
    });

    it("When an administrator adds an IMAP mailbox with a wrong password and then the right one, then the form shows the server's refusal and then Test Connection succeeding", async () => {
      const page = await browser.context.newPage();
      await signIn(page, server);
      await page.getByRole("link", { name: "Add Email Source" }).first().click();
      await page.getByRole("heading", { level: 1, name: "Add Email Source" }).waitFor();
      expect(await page.getByRole("table").first().textContent()).toContain("imap.mail.me.com");
      await page.getByLabel("Provider").selectOption({ label: "FastMail (imap.fastmail.com)" });
      expect(await page.getByLabel("IMAP server").inputValue()).toBe("imap.fastmail.com");

      await page.getByLabel("Name", { exact: true }).fill("Support inbox");
      await page.getByLabel("Email address").fill(account.user);
      await page.getByLabel("IMAP server").fill("127.0.0.1");
      await page.getByLabel("Port").fill(String(dovecot.port));
      await page.getByLabel("Security").selectOption("none");
      await page.getByLabel("Password", { exact: true }).fill("not-the-password");
      await page.getByRole("button", { name: "Save and Test Connection" }).click();
      const result = page.locator("form .outcome");
      await expect.poll(() => result.textContent(), { timeout: 15_000 }).toContain("Connection failed: IMAP login failed");

      await page.getByLabel("Password", { exact: true }).fill(account.password);
      await page.getByRole("button", { name: "Save and Test Connection" }).click();
      await expect.poll(() => result.textContent(), { timeout: 15_000 }).toContain("Connection OK: folder INBOX holds 1 message.");
      await screenshot(page, "add-imap-source");
      const { body } = await server.t.api.get("/api/sources").expect(200);
      expect(body.items).toHaveLength(1);
      expect(body.items[0]).toMatchObject({ kind: "imap", address: account.user, imap: { host: "127.0.0.1", port: dovecot.port, security: "none", hasPassword: true } });

      await page.getByRole("link", { name: "Back to the list" }).click();
      const row = page.locator("tr", { hasText: "Support inbox" });
      await row.waitFor();
      expect(await row.textContent()).toContain("System mailbox");
      await row.getByRole("button", { name: "Actions for Support inbox" }).click();
      await row.getByRole("button", { name: "Test Connection of Support inbox" }).click();
      await expect.poll(() => row.locator(".outcome").textContent(), { timeout: 15_000 }).toBe("Connection OK: folder INBOX holds 1 message.");
      await row.getByRole("button", { name: "Actions for Support inbox" }).click();
      await row.getByRole("button", { name: "Process Now Support inbox" }).click();
      await expect.poll(() => row.locator(".outcome").textContent()).toContain("Processing started");
      await page.close();
    });
  },
  { dovecot: true },
);
