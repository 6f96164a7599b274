// Debian's Chromium driven by playwright-core (never a downloaded browser). Without
// /usr/bin/chromium the browser tests skip with a visible warning, except in CI, where they must run.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { describe } from "vitest";
import { findDovecot } from "../fakes/dovecot/dovecot-server.ts";

export const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

type Needs = { dovecot?: boolean };

/** describe() that skips, saying why, when Chromium (or Dovecot, when needed) is missing outside CI. */
export function describeInBrowser(name: string, body: () => void, needs: Needs = {}): void {
  const missing = [
    !existsSync(CHROMIUM) && `Chromium is not installed (apt-get install -y chromium)`,
    needs.dovecot && findDovecot() === null && "dovecot is not installed (apt-get install -y dovecot-imapd)",
  ].filter(Boolean);
  if (missing.length > 0 && !process.env.CI) {
    console.warn(`SKIPPED "${name}": ${missing.join("; ")}; the console's browser tests need it.`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

export type Browser = { context: BrowserContext; close(): Promise<void> };

/** A headless Chromium with a fresh profile of its own, removed on close. */
export async function launchChromium(): Promise<Browser> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), "mailgate-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    // The width of a common laptop screen, which the console's tables and forms must fit.
    viewport: { width: 1280, height: 900 },
    locale: "en-US",
    timezoneId: "UTC",
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
