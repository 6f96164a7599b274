// DATA_DIR holds raw mail and secrets: after a real start on the embedded database and some mail,
// nothing under it may be open to the group or to others, even when the directory was made
// world-readable before mailgate first ran (what older versions left behind).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startMailgateProcess, type MailgateProcess } from "../../helpers/mailgate-process.ts";
import { waitFor } from "../../helpers/wait-for.ts";

const TOKEN = "private-data-dir-test-token";
const processes: MailgateProcess[] = [];
const parent = mkdtempSync(path.join(os.tmpdir(), "mailgate-private-"));

afterAll(async () => {
  for (const p of processes) await p.stop();
  rmSync(parent, { recursive: true, force: true });
});

function openToOthers(dir: string): string[] {
  const found: string[] = [];
  const visit = (p: string) => {
    const stat = statSync(p);
    if ((stat.mode & 0o077) !== 0) found.push(`${path.relative(dir, p) || "."} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
  };
  visit(dir);
  return found;
}

async function api(base: string, method: string, route: string, body?: unknown, type = "application/json") {
  const res = await fetch(`${base}/api${route}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": type },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("the data directory", () => {
  it("When mailgate starts on a DATA_DIR left mode 755 and takes mail, then no file or directory under it is readable or writable by group or others", async () => {
    const dataDir = path.join(parent, "data");
    mkdirSync(dataDir, { mode: 0o755 });
    const mailgate = await startMailgateProcess("private", { DATA_DIR: dataDir, ADMIN_API_TOKEN: TOKEN, LOG_LEVEL: "info", LOG_FORMAT: "json" });
    processes.push(mailgate);
    await mailgate.waitReady(120_000);

    await api(mailgate.url, "POST", "/companies", { name: "Acme", domains: ["acme.com"] });
    const source = await api(mailgate.url, "POST", "/sources", { kind: "api", name: "Raw", address: "raw@msp.example", role: "system" });
    for (let i = 0; i < 3; i++) {
      const raw = `From: John <john@acme.com>\r\nTo: raw@msp.example\r\nSubject: Printer ${i}\r\nMessage-ID: <private-${i}@acme.com>\r\n\r\nIt jams.\r\n`;
      const accepted = await api(mailgate.url, "POST", `/inbound?sourceId=${String(source.body.id)}`, raw, "message/rfc822");
      expect(accepted.status).toBe(202);
    }
    await waitFor(async () => {
      const tickets = await api(mailgate.url, "GET", "/tickets");
      return (tickets.body.items as unknown[]).length === 3;
    }, 30_000);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    // A clean stop checkpoints the WAL and writes what PGlite keeps in memory.
    await mailgate.stop();

    expect(openToOthers(dataDir)).toEqual([]);
    const said = mailgate.output().split("\n").filter((line) => line.includes("made the data directory private"));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('"was":"755"');
  }, 180_000);
});
