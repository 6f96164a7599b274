// mailgate in-process on a loopback port, as the console's browser sees it: the real app, the real
// database, and (when a test needs them) the pipeline workers and the webhook dispatcher.
import type { AddressInfo } from "node:net";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { startDispatcher, type Dispatcher } from "../../src/delivery/dispatcher.ts";
import { startOutboxSender } from "../../src/outbound/outbox-sender.ts";
import type { WorkLoop } from "../../src/scheduler/work-loop.ts";
import { startPipelineWorkers } from "../../src/pipeline/worker.ts";
import type { Runtime } from "../../src/runtime.ts";
import { createTestContext, TEST_TOKEN, type TestContext } from "../helpers/test-context.ts";

export type ConsoleServer = { t: TestContext; origin: string; consoleUrl: string; close(): Promise<void> };

export async function startConsoleServer(
  opts: { pipeline?: boolean; webhooks?: boolean; outbound?: boolean; env?: Record<string, string> } = {},
): Promise<ConsoleServer> {
  const t = await createTestContext({ env: opts.env });
  const server = t.app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const workers: Runtime | null = opts.pipeline ? startPipelineWorkers(t.ctx, { pollMs: 50 }) : null;
  const dispatcher: Dispatcher | null = opts.webhooks ? startDispatcher(t.ctx, { pollMs: 50 }) : null;
  const outbox: WorkLoop | null = opts.outbound ? startOutboxSender(t.ctx) : null;
  return {
    t,
    origin,
    consoleUrl: `${origin}/console/`,
    close: async () => {
      await outbox?.stop();
      await dispatcher?.stop();
      await workers?.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    },
  };
}

/**
 * Signs in through the form, as an administrator does, and lands on the Overview; or, given `at`
 * (a screen's address such as "#/tickets") and the heading it shows, opens that screen first and
 * lands there, as a bookmarked link does.
 */
export async function signIn(page: Page, server: ConsoleServer, opts: { token?: string; at?: string; heading?: string | RegExp } = {}): Promise<void> {
  await page.goto(`${server.consoleUrl}${opts.at ?? ""}`);
  await page.getByLabel("Admin API token").fill(opts.token ?? TEST_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: opts.heading ?? "Overview" }).waitFor();
}

/**
 * What the page said in its console and what it could not run: errors and warnings (a refused
 * script or style, a Content-Security-Policy violation, an exception). Read it at the end of a test.
 */
export function watchConsole(page: Page): string[] {
  const said: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") said.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (err) => said.push(`exception: ${err.message}`));
  return said;
}

/** With SCREENSHOTS=1, saves the page for the README under docs/screenshots/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!process.env.SCREENSHOTS) return;
  const dir = path.resolve("docs/screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}
