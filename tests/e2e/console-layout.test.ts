// The console at 1280 px, measured in the browser: the Email sources table fits with its Last error
// readable and each row's actions on one line (none that mean nothing for an API source, whose form
// tests no connection either), the Ticket rules' options show whole, and every checkbox sits on the
// line of its label.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Locator, Page } from "playwright-core";
import { updateSource } from "../../src/db/sources.ts";
import { createCompany, createSource } from "../helpers/pipeline.ts";
import { describeInBrowser, launchChromium, type Browser } from "./chromium.ts";
import { signIn, startConsoleServer, type ConsoleServer } from "./console-server.ts";

const WIDTH = 1280;
const IMAP_ERROR =
  'IMAP login failed for user support@msp.example: the server said "[AUTHENTICATIONFAILED] Authentication failed."; check the password or use an app-specific password.';

/** Browser JavaScript for locator.evaluate (these tests are typed without the DOM's names). */
const inPage = <R>(source: string) => new Function(`return (${source})`)() as (el: unknown, arg?: unknown) => R;

type Box = { x: number; y: number; width: number; height: number };

async function box(locator: Locator): Promise<Box> {
  const b = await locator.boundingBox();
  if (!b) throw new Error(`${locator} is not visible`);
  return b;
}

/** Whether a and b share a line: their vertical extents overlap, and a ends left of where b starts. */
const sideBySide = (a: Box, b: Box) => a.y < b.y + b.height && b.y < a.y + a.height && a.x + a.width <= b.x;

/** For each option of the select, how much wider its text is than the room the select gives it (≤ 0: it fits). */
async function optionOverflow(select: Locator): Promise<{ text: string; overflow: number }[]> {
  return select.evaluate(inPage<{ text: string; overflow: number }[]>(`(select) => {
    const style = getComputedStyle(select);
    const ctx = document.createElement("canvas").getContext("2d");
    ctx.font = style.font;
    // The drop-down arrow takes about 1.5em on the right.
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 1.5 * parseFloat(style.fontSize);
    return [...select.options].map((o) => ({ text: o.text, overflow: Math.ceil(ctx.measureText(o.text).width - room) }));
  }`));
}

async function checkboxesBesideTheirLabels(page: Page, scope: Locator): Promise<void> {
  const checkboxes = scope.locator(".field.check input[type=checkbox]");
  expect(await checkboxes.count()).toBeGreaterThan(0);
  for (const checkbox of await checkboxes.all()) {
    const label = page.locator(`label[for="${await checkbox.getAttribute("id")}"]`);
    expect(sideBySide(await box(checkbox), await box(label)), `"${await label.textContent()}" beside its checkbox`).toBe(true);
  }
}

describeInBrowser("console: the layout at 1280 px", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    server = await startConsoleServer();
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.setViewportSize({ width: WIDTH, height: 900 });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("When Email sources lists an IMAP source with a long error, a Gmail and a Microsoft 365 source and an API source, then the table fits, the error wraps by words, each row's actions share one line, and the API source offers neither Test Connection nor Process Now", async () => {
    const imapId = await createSource(server.t, {
      kind: "imap",
      name: "Support inbox",
      address: "support@msp.example",
      imap: { host: "imap.fastmail.com", port: 993, security: "ssl", user: "support@msp.example", password: "app-specific-password" },
    });
    const now = server.t.ctx.clock.now();
    await updateSource(server.t.ctx.db, imapId, { status: "error", lastError: IMAP_ERROR, lastErrorAt: now }, now);
    await createSource(server.t, {
      kind: "gmail",
      name: "Support (Gmail)",
      address: "help@acme-help.test",
      gmail: { clientId: "client-1.apps.googleusercontent.com", clientSecret: "gmail-client-secret", redirectUri: `${server.origin}/admin/oauth/google/callback` },
    });
    await createSource(server.t, {
      kind: "graph",
      name: "Service desk (Microsoft 365)",
      address: "desk@contoso.example",
      graph: { tenantId: "contoso.onmicrosoft.com", clientId: "app-1", clientSecret: "graph-secret", redirectUri: `${server.origin}/admin/oauth/microsoft/callback` },
    });
    const initech = await createCompany(server.t, "Initech", ["initech.com"]);
    await createSource(server.t, { name: "Initech desk", address: "help@initech.com", role: "company", companyId: initech });

    await signIn(page, server);
    await page.getByRole("link", { name: "Email sources" }).click();
    const rows = page.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(4);

    const scroll = page.locator(".scroll");
    const [scrollWidth, clientWidth] = await scroll.evaluate(inPage<[number, number]>("(el) => [el.scrollWidth, el.clientWidth]"));
    expect.soft(scrollWidth, "the table fits without scrolling sideways").toBeLessThanOrEqual(clientWidth);

    // The error's text node, wherever the cell puts it: its line boxes, and the words broken across two.
    const cell = page.locator("tr", { hasText: "Support inbox" }).locator("td", { hasText: IMAP_ERROR });
    const layout = await cell.evaluate(
      inPage<{ width: number; lines: number; broken: string[] }>(`(cell, error) => {
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      let node;
      while ((node = walker.nextNode()) && node.data !== error);
      if (!node) throw new Error("no text node holds the error");
      const range = document.createRange();
      range.selectNodeContents(node);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      const broken = [];
      let top = null;
      for (let i = 0; i < node.length; i++) {
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const t = range.getBoundingClientRect().top;
        if (top !== null && t > top + 1 && /[\\p{L}\\p{N}]/u.test(node.data[i - 1]) && /[\\p{L}\\p{N}]/u.test(node.data[i])) broken.push(node.data.slice(Math.max(0, i - 8), i + 8));
        top = t;
      }
      range.selectNodeContents(node);
      return { width: range.getBoundingClientRect().width, lines: tops.size, broken };
    }`),
      IMAP_ERROR,
    );
    expect.soft(layout.width, "the Last error column is wide enough to read").toBeGreaterThanOrEqual(200);
    expect.soft(layout.lines, "lines of the Last error").toBeLessThanOrEqual(8);
    expect.soft(layout.broken, "words broken across lines").toEqual([]);

    for (const row of await rows.all()) {
      const name = await row.locator("th strong").textContent();
      const tops = new Set<number>();
      for (const action of await row.locator("td.actions :is(button, a.button):visible").all()) tops.add(Math.round((await box(action)).y));
      expect.soft(tops.size, `${name}: actions on one line`).toBe(1);
    }

    const apiRow = page.locator("tr", { hasText: "Initech desk" });
    await apiRow.getByRole("button", { name: "Actions for Initech desk" }).click();
    await apiRow.getByRole("link", { name: "Edit Initech desk" }).waitFor();
    expect(await apiRow.getByRole("button", { name: "Delete Initech desk" }).count()).toBe(1);
    expect(await apiRow.getByRole("button", { name: /Test Connection/, includeHidden: true }).count()).toBe(0);
    expect(await apiRow.getByRole("button", { name: /Process Now/, includeHidden: true }).count()).toBe(0);
    await page.keyboard.press("Escape");
    const imapRow = page.locator("tr", { hasText: "Support inbox" });
    await imapRow.getByRole("button", { name: "Actions for Support inbox" }).click();
    await imapRow.getByRole("button", { name: "Test Connection of Support inbox" }).waitFor();
    await imapRow.getByRole("button", { name: "Process Now Support inbox" }).waitFor();
    await page.keyboard.press("Escape");
    await page.locator("tr", { hasText: "Support (Gmail)" }).getByRole("button", { name: "Authorize", exact: true }).waitFor();
  });

  it("When an administrator edits the API source and saves it, then the form says where its scripts post mail instead of testing a connection", async () => {
    const apiRow = page.locator("tr", { hasText: "Initech desk" });
    await apiRow.getByRole("button", { name: "Actions for Initech desk" }).click();
    await apiRow.getByRole("link", { name: "Edit Initech desk" }).click();
    await page.getByRole("heading", { level: 1, name: "Edit Initech desk" }).waitFor();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    const result = page.locator("form .outcome");
    await expect.poll(() => result.textContent()).toMatch(/^Saved\. Your scripts post each raw email to POST \/api\/inbound\?sourceId=[0-9a-f-]{36}\.$/);
    await page.getByRole("link", { name: "Back to the list" }).click();
    await page.getByRole("heading", { level: 1, name: "Email sources" }).waitFor();
  });

  it("When an administrator opens Ticket rules, then every option of every select shows whole, and each checkbox is on its label's line", async () => {
    await createCompany(server.t, "Acme Corporation", ["acme.com"]);
    await server.t.api.post("/api/techs").send({ name: "Sam Tech", email: "sam@msp.example" }).expect(201);
    await page.getByRole("link", { name: "Ticket rules" }).click();
    await page.getByRole("heading", { level: 1, name: "Ticket rules" }).waitFor();
    await page.getByLabel("Auto-assign").selectOption("specific");
    const form = page.locator("form");
    for (const select of await form.locator("select:visible").all()) {
      const label = await page.locator(`label[for="${await select.getAttribute("id")}"]`).textContent();
      const clipped = (await optionOverflow(select)).filter((o) => o.overflow > 0);
      expect(clipped, `options of "${label}" cut off`).toEqual([]);
    }
    await checkboxesBesideTheirLabels(page, form);
  });

  it("When an administrator opens a company, then the Default company and the Also route… checkboxes are on their labels' lines", async () => {
    const id = await createCompany(server.t, "Umbrella", ["umbrella.com"]);
    await page.goto(`${server.consoleUrl}#/companies/${id}`);
    await page.getByRole("heading", { level: 1, name: "Umbrella" }).waitFor();
    await page.getByLabel("Also route the mail from this domain that waits in Inbox review").waitFor();
    await checkboxesBesideTheirLabels(page, page.locator("main"));
  });
});
