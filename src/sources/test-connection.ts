// "Test Connection": try a source's settings against its provider and answer with a value, never
// an exception: {ok: true, details} or {ok: false, error: {code, message}}.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Context } from "../context.ts";
import type { SourceRecord } from "../db/sources.ts";
import type { SourceKind } from "./source-config.ts";
import { testGmailConnection } from "./gmail/test-connection.ts";
import { testGraphConnection } from "./graph/test-connection.ts";

export type ConnectionTestResult =
  | { ok: true; details: Record<string, unknown> }
  | { ok: false; error: { code: string; message: string } };

type ImapTester = (ctx: Context, source: SourceRecord) => Promise<ConnectionTestResult>;

const notAvailable = (what: string): ConnectionTestResult => ({
  ok: false,
  error: { code: "not_available", message: `Testing ${what} sources is not available in this version of mailgate yet.` },
});

export async function testConnection(ctx: Context, source: SourceRecord): Promise<ConnectionTestResult> {
  const kind = source.kind as SourceKind;
  switch (kind) {
    case "api":
      return { ok: true, details: { kind: "api" } };
    case "imap": {
      const tester = await loadImapTester();
      if (!tester) return notAvailable("IMAP");
      try {
        return await tester(ctx, source);
      } catch (err) {
        ctx.log.warn({ err, sourceId: source.id }, "IMAP connection test failed unexpectedly");
        return { ok: false, error: { code: "test_failed", message: `The connection test failed: ${(err as Error).message}` } };
      }
    }
    case "gmail":
      return guarded(ctx, source, testGmailConnection);
    case "graph":
      return guarded(ctx, source, testGraphConnection);
  }
}

async function guarded(
  ctx: Context,
  source: SourceRecord,
  tester: (ctx: Context, source: SourceRecord) => Promise<ConnectionTestResult>,
): Promise<ConnectionTestResult> {
  try {
    return await tester(ctx, source);
  } catch (err) {
    ctx.log.warn({ err, sourceId: source.id }, "connection test failed unexpectedly");
    return { ok: false, error: { code: "test_failed", message: `The connection test failed: ${(err as Error).message}` } };
  }
}

// The IMAP source lands in its own change; until then this module must load (and typecheck) without it.
// A module path held in a variable keeps the compiler from resolving it.
async function loadImapTester(): Promise<ImapTester | null> {
  const modulePath = "./imap/test-connection.ts";
  if (!existsSync(fileURLToPath(new URL(modulePath, import.meta.url)))) return null;
  const loaded = (await import(modulePath)) as { testImapConnection?: unknown };
  return typeof loaded.testImapConnection === "function" ? (loaded.testImapConnection as ImapTester) : null;
}
