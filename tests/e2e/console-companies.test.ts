// Companies and their email domains: create with domains, a domain another company has is refused
// in words (which company has it, a link there, a button removing it there), and one company's page
// lists its domains and mailboxes.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSource } from "../helpers/pipeline.ts";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { screenshot, signIn, startConsoleServer, type ConsoleServer } from "./console-server.ts";

describeInBrowser("console: companies", () => {
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

  it("When an administrator creates a company with domains and then another one claiming one of them, then the first is listed, the second is refused naming the company that has the domain, and removing it there lets the second be created", async () => {
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.getByRole("link", { name: "Companies" }).click();
    await page.getByText("No companies yet.").waitFor();

    await page.getByLabel("Name", { exact: true }).fill("Acme Corporation");
    await page.getByLabel("Email domains").fill("acme.com\nacme-corp.com");
    await page.getByRole("button", { name: "Create company" }).click();
    const acme = page.locator("tr", { hasText: "Acme Corporation" });
    await acme.waitFor();
    expect(await acme.textContent()).toContain("acme-corp.com, acme.com");

    await page.getByLabel("Name", { exact: true }).fill("Globex");
    await page.getByLabel("Email domains").fill("globex.com, acme.com");
    await page.getByRole("button", { name: "Create company" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    const { body } = await server.t.api.post("/api/companies").send({ name: "Globex", domains: ["acme.com"] }).expect(409);
    expect(body.error.details).toMatchObject({ domain: "acme.com", companyName: "Acme Corporation" });
    const said = await alert.textContent();
    expect(said).toContain("The domain acme.com already belongs to the company Acme Corporation");
    expect(said, "no API path shown to a person").not.toContain("/api/");
    expect(said).not.toContain(body.error.details.companyId);
    await alert.getByRole("link", { name: "Open Acme Corporation" }).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
    await screenshot(page, "companies");

    await alert.getByRole("button", { name: "Remove acme.com from Acme Corporation" }).click();
    await page.getByText('Removed acme.com from Acme Corporation. Click "Create company" again to add it here.').waitFor();
    await page.getByRole("button", { name: "Create company" }).click();
    const globex = page.locator("tr", { hasText: "Globex" });
    await globex.waitFor();
    expect(await globex.textContent()).toContain("acme.com, globex.com");
    expect(await acme.locator("td").first().textContent()).toBe("acme-corp.com");
    await page.close();
  });

  it("When an administrator opens a company, then its domains can be added and removed, a taken domain is explained, and its mailboxes are listed, with a link to add one", async () => {
    const { body: initech } = await server.t.api.post("/api/companies").send({ name: "Initech", domains: ["initech.com"] }).expect(201);
    const { body: umbrella } = await server.t.api.post("/api/companies").send({ name: "Umbrella", domains: ["umbrella.com"] }).expect(201);
    await createSource(server.t, { name: "Initech desk", address: "help@initech.com", role: "company", companyId: initech.id });
    const page = await browser.context.newPage();
    await signIn(page, server);
    await page.getByRole("link", { name: "Companies" }).click();
    await page.getByRole("link", { name: "Edit Initech" }).click();
    await page.getByRole("heading", { level: 1, name: "Initech" }).waitFor();
    expect(await page.locator("section", { hasText: "Company mailboxes" }).locator("tbody").textContent()).toContain("help@initech.com");

    await page.getByLabel("Add a domain").fill("initech.net");
    await page.getByRole("button", { name: "Add domain" }).click();
    await page.getByRole("button", { name: "Remove initech.net" }).waitFor();

    await page.getByLabel("Add a domain").fill("umbrella.com");
    await page.getByRole("button", { name: "Add domain" }).click();
    await page.getByRole("link", { name: "Open Umbrella" }).waitFor();
    const said = await page.getByRole("alert").textContent();
    expect(said).toContain("The domain umbrella.com already belongs to the company Umbrella");
    expect(said).not.toContain("/api/");

    await page.getByRole("button", { name: "Remove initech.com" }).click();
    await expect.poll(async () => (await server.t.api.get(`/api/companies/${initech.id}`)).body.domains).toEqual(["initech.net"]);
    await page.getByLabel("Name", { exact: true }).fill("Initech Inc.");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Initech Inc." }).waitFor();
    expect((await server.t.api.get(`/api/companies/${umbrella.id}`)).body.domains).toEqual(["umbrella.com"]);
    await screenshot(page, "company");

    await page.getByRole("link", { name: "Add a company mailbox" }).click();
    await page.getByRole("heading", { level: 1, name: "Add Email Source" }).waitFor();
    expect(await page.getByLabel("Role").inputValue()).toBe("company");
    expect(await page.getByLabel("Company", { exact: true }).inputValue()).toBe(initech.id);
    await page.close();
  });
});
