// Ticket rules: the settings form shows the guide's defaults, puts the API's field problem under
// its field, and saves the rules the pipeline then uses; the acknowledgement templates are
// previewed as the customer would get them while they are written.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createCompany, createSource } from "../helpers/pipeline.ts";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { screenshot, signIn, startConsoleServer, type ConsoleServer } from "./console-server.ts";

describeInBrowser("console: ticket rules", () => {
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("When an administrator picks a specific tech without naming one, then the Tech field shows the API's problem, and once chosen the rules are saved", async () => {
    const { body: tech } = await server.t.api.post("/api/techs").send({ name: "Sam Tech", email: "sam@msp.example" }).expect(201);
    const acmeId = await createCompany(server.t, "Acme Corporation", ["acme.com"]);
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.getByRole("link", { name: "Ticket rules" }).click();
    expect(await page.getByLabel("Default priority").inputValue()).toBe("normal");
    expect(await page.getByLabel("Default job type").inputValue()).toBe("Support Request");
    expect(await page.getByLabel("Largest attachment (MB)").inputValue()).toBe("25");

    await page.getByLabel("Auto-assign").selectOption("specific");
    await page.getByRole("button", { name: "Save rules" }).click();
    const techField = page.getByLabel("Tech", { exact: true });
    await expect.poll(() => techField.getAttribute("aria-invalid")).toBe("true");
    const { body: refusal } = await server.t.api.put("/api/settings").send({ autoAssign: { mode: "specific", techId: "" } }).expect(400);
    expect(await page.locator(".field", { has: techField }).locator(".field-error").textContent()).toBe(refusal.error.details[0].message);

    await techField.selectOption({ label: "Sam Tech <sam@msp.example>" });
    await page.getByLabel("Default priority").selectOption("high");
    await page.getByLabel("Default company").selectOption({ label: "Acme Corporation" });
    await page.getByLabel("Allowed file types").fill(".pdf, image/*");
    await page.getByRole("button", { name: "Save rules" }).click();
    await page.getByText("Saved: new mail follows these rules from now on.").waitFor();
    expect(await techField.getAttribute("aria-invalid")).toBeNull();
    const { body: rules } = await server.t.api.get("/api/settings").expect(200);
    expect(rules).toMatchObject({
      defaultPriority: "high",
      autoAssign: { mode: "specific", techId: tech.id },
      unmappedDomains: { mode: "default_company", defaultCompanyId: acmeId },
      attachments: { mode: "save", maxBytes: 25 * 1024 * 1024, allowedTypes: [".pdf", "image/*"] },
    });
    await page.close();
  });

  it("When an administrator writes the acknowledgement templates, then the preview shows the sample ticket's mail as they type, and the templates are saved and still there after a reload", async () => {
    await createSource(server.t, { name: "Help desk", address: "help@msp.example" });
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.getByRole("link", { name: "Ticket rules" }).click();
    const preview = page.getByRole("region", { name: "Preview" });
    const subject = preview.locator(".preview-subject");
    const text = preview.locator(".preview-text");
    const html = page.frameLocator("iframe.preview-html");
    expect(await page.getByLabel("Send an acknowledgement for each new ticket").isChecked()).toBe(false);
    expect(await page.getByLabel("Subject", { exact: true }).inputValue()).toBe("{{ticket.subject}}");
    expect(await subject.textContent()).toBe("Re: [Ticket #1042] Printer on 2nd floor is offline");
    expect(await text.textContent()).toContain("This is an automatic reply to help@msp.example.");
    await preview.getByText("Off: nothing is sent.").waitFor();

    await page.getByLabel("Ticket subject tag").fill("TKT-");
    await page.getByLabel("Subject", { exact: true }).fill("Re: We got it: {{ ticket.subject }}");
    await expect.poll(() => subject.textContent()).toBe("Re: [TKT-1042] We got it: Printer on 2nd floor is offline");
    await page.getByLabel("Text", { exact: true }).fill("Hello {{contact.name}} of {{company.name}},\n\nticket {{ticket.number}} is open; write to {{source.address}}.");
    await expect.poll(() => text.textContent()).toBe("Hello Jane Doe of Contoso,\n\nticket 1042 is open; write to help@msp.example.");
    expect(await page.locator("iframe.preview-html").count()).toBe(0);
    // The operator's markup is shown but never run: the frame is sandboxed without scripts.
    await page.getByLabel("HTML (optional)").fill('<p>Hello <b>{{contact.name}}</b>, ticket {{ticket.number}}</p><script>document.body.className = "script-ran"</script>');
    await expect.poll(() => html.locator("b").textContent()).toBe("Jane Doe");
    expect(await html.locator("body").innerText()).toBe("Hello Jane Doe, ticket 1042");
    expect(await html.locator("body").getAttribute("class")).toBeNull();
    expect(await page.locator("iframe.preview-html").getAttribute("sandbox")).toBe("");
    await page.getByLabel("HTML (optional)").fill("<p>Hello <b>{{contact.name}}</b>,</p><p>we opened ticket {{ticket.number}} for you.</p>");
    await expect.poll(() => html.locator("body").innerText()).toBe("Hello Jane Doe,\n\nwe opened ticket 1042 for you.");
    await page.getByLabel("Send an acknowledgement for each new ticket").check();
    await preview.getByText("On: the sender of each new ticket gets this mail.").waitFor();
    await page.getByLabel("Acknowledgements per sender per hour").fill("5");
    await page.getByLabel("Also acknowledge mail that creates a lead").check();
    await page.getByRole("button", { name: "Save rules" }).click();
    await page.getByText("Saved: new mail follows these rules from now on.").waitFor();
    const saved = {
      enabled: true,
      subject: "Re: We got it: {{ ticket.subject }}",
      text: "Hello {{contact.name}} of {{company.name}},\n\nticket {{ticket.number}} is open; write to {{source.address}}.",
      html: "<p>Hello <b>{{contact.name}}</b>,</p><p>we opened ticket {{ticket.number}} for you.</p>",
      acknowledgeLeads: true,
      perSenderPerHour: 5,
    };
    const { body: rules } = await server.t.api.get("/api/settings").expect(200);
    expect(rules).toMatchObject({ ticketSubjectTag: "TKT-", acknowledgement: saved });
    await screenshot(page, "ticket-rules");

    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Ticket rules" }).waitFor();
    expect(await page.getByLabel("Send an acknowledgement for each new ticket").isChecked()).toBe(true);
    expect(await page.getByLabel("Subject", { exact: true }).inputValue()).toBe(saved.subject);
    expect(await page.getByLabel("Text", { exact: true }).inputValue()).toBe(saved.text);
    expect(await page.getByLabel("HTML (optional)").inputValue()).toBe(saved.html);
    expect(await page.getByLabel("Acknowledgements per sender per hour").inputValue()).toBe("5");
    expect(await page.getByLabel("Also acknowledge mail that creates a lead").isChecked()).toBe(true);
    expect(await subject.textContent()).toBe("Re: [TKT-1042] We got it: Printer on 2nd floor is offline");
    await expect.poll(() => html.locator("b").textContent()).toBe("Jane Doe");

    await page.getByLabel("HTML (optional)").fill("");
    await expect.poll(() => page.locator("iframe.preview-html").count()).toBe(0);
    await page.getByRole("button", { name: "Save rules" }).click();
    await page.getByText("Saved: new mail follows these rules from now on.").waitFor();
    const { body: withoutHtml } = await server.t.api.get("/api/settings").expect(200);
    expect(withoutHtml.acknowledgement).not.toHaveProperty("html");
    await page.close();
  });

  it("When an acknowledgement template names an unknown placeholder, then the preview leaves it as written and saving shows the API's problem under that field", async () => {
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.getByRole("link", { name: "Ticket rules" }).click();
    const textField = page.getByLabel("Text", { exact: true });
    await textField.fill("Hi {{contact.email}}, ticket {{ticket.number}} is open.");
    await expect.poll(() => page.getByRole("region", { name: "Preview" }).locator(".preview-text").textContent()).toBe("Hi {{contact.email}}, ticket 1042 is open.");
    await page.getByRole("button", { name: "Save rules" }).click();
    await expect.poll(() => textField.getAttribute("aria-invalid")).toBe("true");
    const { body: stored } = await server.t.api.get("/api/settings").expect(200);
    const { body: refusal } = await server.t.api
      .put("/api/settings")
      .send({ acknowledgement: { ...stored.acknowledgement, text: "Hi {{contact.email}}, ticket {{ticket.number}} is open." } })
      .expect(400);
    expect(refusal.error.details).toEqual([{ field: "acknowledgement.text", message: expect.stringContaining("unknown placeholder {{contact.email}}") }]);
    expect(await page.locator(".field", { has: textField }).locator(".field-error").textContent()).toBe(refusal.error.details[0].message);
    expect(stored.acknowledgement.text).not.toContain("contact.email");
    await page.close();
  });
});
