// Signing in to the console with the admin token: kept in the tab's session, never in the URL.
// (Page expressions are strings: the tests compile without the DOM library.)
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { screenshot, signIn, startConsoleServer, type ConsoleServer } from "./console-server.ts";
import { TEST_TOKEN } from "../helpers/test-context.ts";

describeInBrowser("console sign-in", () => {
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

  it("When the token is wrong, then the sign-in form shows the API's own message and keeps nothing", async () => {
    const page = await browser.context.newPage();
    await page.goto(server.consoleUrl);
    await page.getByLabel("Admin API token").fill("not-the-token-at-all");
    await page.getByRole("button", { name: "Sign in" }).click();
    const answer = await server.t.anonymous.get("/api/settings").set("Authorization", "Bearer not-the-token-at-all");
    await expect.poll(() => page.getByRole("alert").textContent()).toBe(answer.body.error.message);
    expect(await page.evaluate<number>("sessionStorage.length")).toBe(0);
    await screenshot(page, "sign-in");
    await page.close();
  });

  it("When the token is right, then the overview opens, the token stays out of the URL, and Sign out forgets it", async () => {
    const page = await browser.context.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await signIn(page, server);
    expect(await page.evaluate<string[]>("Object.values(sessionStorage)")).toEqual([TEST_TOKEN]);
    expect(requests.some((url) => url.includes(TEST_TOKEN))).toBe(false);
    expect(requests.every((url) => url.startsWith(server.origin) || url.startsWith("data:"))).toBe(true);
    await page.getByText("No email sources yet.").waitFor();
    expect(page.url()).toBe(`${server.consoleUrl}#/overview`);

    await page.getByRole("link", { name: "Ticket rules" }).click();
    await page.getByRole("heading", { level: 1, name: "Ticket rules" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Ticket rules" }).waitFor();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin API token").waitFor();
    expect(await page.evaluate<number>("sessionStorage.length")).toBe(0);
    await page.close();
  });
});
