// "Add Email Source" for IMAP against a real Dovecot, with its SMTP block against smtp-server on
// loopback: Save and Test Connection in the form, then Test Connection and Process Now from the
// list, each with its result in place.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startDovecot, type DovecotServer, type TestAccount } from "../fakes/dovecot/dovecot-server.ts";
import { testCertificateFile } from "../fakes/microsoft/test-certificate.ts";
import { startFakeSmtp, type FakeSmtp } from "../fakes/smtp/smtp-server.ts";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { screenshot, signIn, startConsoleServer, type ConsoleServer } from "./console-server.ts";

describeInBrowser(
  "console: an IMAP source",
  () => {
    let dovecot: DovecotServer;
    let account: TestAccount;
    let server: ConsoleServer;
    let smtp: FakeSmtp;
    let browser: Browser;
    beforeAll(async () => {
      dovecot = await startDovecot({ accounts: 1 });
      account = dovecot.takeAccount();
      const mail = await dovecot.connect(account.user, account.password);
      await mail.append("INBOX", "From: john@acme.com\r\nSubject: Printer\r\n\r\nIt jams.\r\n");
      await mail.logout();
      smtp = await startFakeSmtp({ user: account.user });
      server = await startConsoleServer({ env: { SMTP_CA_FILE: testCertificateFile } });
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await smtp?.close();
      await dovecot?.stop();
    });

    it("When an administrator adds an IMAP mailbox and its SMTP server with wrong passwords and then the right ones, then the form shows each server's refusal and then Test Connection succeeding for both", async () => {
      const page = await browser.context.newPage();
      await signIn(page, server);
      await page.getByRole("link", { name: "Email sources" }).click();
      await page.getByRole("link", { name: "Add Email Source" }).first().click();
      await page.getByRole("heading", { level: 1, name: "Add Email Source" }).waitFor();
      expect(await page.getByRole("table").first().textContent()).toContain("imap.mail.me.com");
      await page.getByLabel("Provider").selectOption({ label: "FastMail (imap.fastmail.com)" });
      expect(await page.getByLabel("IMAP server").inputValue()).toBe("imap.fastmail.com");
      expect(await page.getByLabel("SMTP server").isVisible()).toBe(false);
      await page.getByLabel("Send replies through SMTP").check();
      expect([await page.getByLabel("SMTP server").inputValue(), await page.getByLabel("SMTP port").inputValue()]).toEqual(["smtp.fastmail.com", "465"]);

      await page.getByLabel("Name", { exact: true }).fill("Support inbox");
      await page.getByLabel("Email address").fill(account.user);
      await page.getByLabel("IMAP server").fill("127.0.0.1");
      await page.getByLabel("Port", { exact: true }).fill(String(dovecot.port));
      await page.getByLabel("Security", { exact: true }).selectOption("none");
      await page.getByLabel("Password", { exact: true }).fill("not-the-password");
      await page.getByLabel("SMTP server").fill(smtp.host);
      await page.getByLabel("SMTP port").fill(String(smtp.port));
      await page.getByLabel("SMTP security").selectOption("starttls");
      await page.getByLabel("SMTP password").fill("not-the-smtp-password");
      await page.getByRole("button", { name: "Save and Test Connection" }).click();
      const result = page.locator("form .outcome");
      await expect.poll(() => result.textContent(), { timeout: 15_000 }).toContain("IMAP: Connection failed: IMAP login failed");
      expect(await result.textContent()).toContain("SMTP: Login failed: SMTP login failed");

      await page.getByLabel("Password", { exact: true }).fill(account.password);
      await page.getByLabel("SMTP password").fill(smtp.password);
      await page.getByRole("button", { name: "Save and Test Connection" }).click();
      const bothOk = `IMAP: Connection OK: folder INBOX holds 1 message. SMTP: Login OK as ${account.user} on 127.0.0.1:${smtp.port}.`;
      await expect.poll(() => result.textContent(), { timeout: 15_000 }).toContain(bothOk);
      await screenshot(page, "add-imap-source");
      const { body } = await server.t.api.get("/api/sources").expect(200);
      expect(body.items).toHaveLength(1);
      expect(body.items[0]).toMatchObject({
        kind: "imap",
        address: account.user,
        imap: { host: "127.0.0.1", port: dovecot.port, security: "none", hasPassword: true },
        smtp: { host: "127.0.0.1", port: smtp.port, security: "starttls", user: account.user, saveToSent: false, hasPassword: true },
      });

      await page.getByRole("link", { name: "Back to the list" }).click();
      const row = page.locator("tr", { hasText: "Support inbox" });
      await row.waitFor();
      expect(await row.textContent()).toContain("System mailbox");
      await row.getByRole("button", { name: "Actions for Support inbox" }).click();
      await row.getByRole("button", { name: "Test Connection of Support inbox" }).click();
      await expect.poll(() => row.locator(".outcome").textContent(), { timeout: 15_000 }).toBe(bothOk);
      await row.getByRole("button", { name: "Actions for Support inbox" }).click();
      await row.getByRole("button", { name: "Process Now Support inbox" }).click();
      await expect.poll(() => row.locator(".outcome").textContent()).toContain("Processing started");
      await page.close();
    });
  },
  { dovecot: true },
);
