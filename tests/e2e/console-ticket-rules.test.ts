// Ticket rules: the settings form shows the guide's defaults, puts the API's field problem under
// its field, and saves the rules the pipeline then uses.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createCompany } from "../helpers/pipeline.ts";
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
    await screenshot(page, "ticket-rules");
    await page.close();
  });
});
