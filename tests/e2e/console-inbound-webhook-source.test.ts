// "Add Email Source" for mail a mail service posts to mailgate: the provider's own fields saved
// through the form, the URL to paste into the service shown from PUBLIC_URL (with the Basic
// credentials for SendGrid and Postmark), and the signing key or password never shown again.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { signIn, startConsoleServer, type ConsoleServer } from "./console-server.ts";

const PUBLIC_URL = "https://mailgate.msp.example";
const PASSWORD = "a-long-basic-password-42";

describeInBrowser("console: a mail-service (inbound webhook) source", () => {
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startConsoleServer({ env: { PUBLIC_URL } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("When an administrator adds a SendGrid source, then the API has its user and a password it does not show, and the page gives the URL with the Basic credentials but without the password", async () => {
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.goto(`${server.consoleUrl}#/sources/new/inbound-webhook`);
    await page.getByLabel("Mail service", { exact: true }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("SendGrid support");
    await page.getByLabel("Email address").fill("support@parse.msp.example");
    expect(await page.getByLabel("SNS topic ARN").isVisible()).toBe(true);
    expect(await page.getByLabel("Basic user").isVisible()).toBe(false);
    await page.getByLabel("Mail service", { exact: true }).selectOption("sendgrid");
    expect(await page.getByLabel("SNS topic ARN").isVisible()).toBe(false);
    await page.getByLabel("Basic user").fill("sendgrid");
    await page.getByLabel("Basic password").fill(PASSWORD);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Saved. Paste this URL into SendGrid Inbound Parse").waitFor();

    const { items } = (await server.t.api.get("/api/sources").expect(200)).body;
    const source = items.find((s: { address: string }) => s.address === "support@parse.msp.example");
    expect(source).toMatchObject({ kind: "inbound-webhook", name: "SendGrid support", role: "system", status: "connected", config: { provider: "sendgrid", user: "sendgrid", hasPassword: true } });
    expect(JSON.stringify(source)).not.toContain(PASSWORD);
    const shown = await page.getByLabel("Service URL with credentials", { exact: true }).textContent();
    expect(shown).toBe(`https://sendgrid:<password>@mailgate.msp.example/push/inbound/${source.id}/sendgrid`);
    expect(await page.content()).not.toContain(PASSWORD);

    await page.goto(`${server.consoleUrl}#/sources/edit/${source.id}`);
    await page.getByLabel("Basic user").waitFor();
    expect(await page.getByLabel("Mail service", { exact: true }).inputValue()).toBe("sendgrid");
    expect(await page.getByLabel("Basic user").inputValue()).toBe("sendgrid");
    expect(await page.getByLabel("Basic password").inputValue()).toBe("");
    await page.getByLabel("Name", { exact: true }).fill("SendGrid inbound");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Saved. Paste this URL").waitFor();
    const edited = (await server.t.api.get(`/api/sources/${source.id}`).expect(200)).body;
    expect(edited).toMatchObject({ name: "SendGrid inbound", config: { provider: "sendgrid", user: "sendgrid", hasPassword: true } });
    await page.close();
  });

  it("When an administrator adds an SES source, then the API has its topic, and the page gives the plain URL to subscribe to the topic", async () => {
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.goto(`${server.consoleUrl}#/sources/new/inbound-webhook`);
    await page.getByLabel("SNS topic ARN").waitFor();
    await page.getByLabel("Name", { exact: true }).fill("SES support");
    await page.getByLabel("Email address").fill("support@ses.msp.example");
    await page.getByLabel("SNS topic ARN").fill("arn:aws:sns:eu-west-1:123456789012:mailgate-inbound");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Saved. Paste this URL into Amazon SES").waitFor();

    const { items } = (await server.t.api.get("/api/sources").expect(200)).body;
    const source = items.find((s: { address: string }) => s.address === "support@ses.msp.example");
    expect(source).toMatchObject({ kind: "inbound-webhook", config: { provider: "ses", topicArn: "arn:aws:sns:eu-west-1:123456789012:mailgate-inbound" } });
    expect(await page.getByLabel("Service URL", { exact: true }).textContent()).toBe(`${PUBLIC_URL}/push/inbound/${source.id}/ses`);
    await page.close();
  });

  it("When a Mailgun source is saved without its signing key, then the form names the field to fill and nothing is created", async () => {
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.goto(`${server.consoleUrl}#/sources/new/inbound-webhook`);
    await page.getByLabel("Mail service", { exact: true }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Mailgun support");
    await page.getByLabel("Email address").fill("support@mg.msp.example");
    await page.getByLabel("Mail service", { exact: true }).selectOption("mailgun");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.locator(".field-error").first().waitFor();
    expect(await page.locator(".field-error").first().textContent()).toContain("signing key");
    const { items } = (await server.t.api.get("/api/sources").expect(200)).body;
    expect(items.some((s: { address: string }) => s.address === "support@mg.msp.example")).toBe(false);
    await page.close();
  });
});
