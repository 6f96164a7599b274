// npm run corpus -- <folder>: pushes every .box/.eml of a folder through the real pipeline (on a
// throwaway embedded database, or DATABASE_URL) and prints a table: status per file and what was
// extracted. When <folder>-expected.json exists (the Zammad corpus), from/subject/attachments are
// checked against it.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq, inArray } from "drizzle-orm";
import { buildContext } from "../src/boot.ts";
import { parseConfig } from "../src/config.ts";
import { storeInbound } from "../src/db/inbound-store.ts";
import { attachmentBlobs, attachments, companies, inboundMessages, mailSources, ticketMessages } from "../src/db/schema.ts";
import { parseEmail } from "../src/pipeline/parse-email.ts";
import { createHash } from "node:crypto";
import { processNextMessage } from "../src/pipeline/worker.ts";

type Expected = Record<string, { from_email: string; subject: string | null; attachments: { filename: string; sha256?: string; md5?: string }[] }>;

async function main() {
  const folder = process.argv[2];
  if (!folder || !existsSync(folder)) {
    console.error("usage: npm run corpus -- <folder with .box or .eml files>");
    process.exit(2);
  }
  const files = readdirSync(folder).filter((f) => /\.(box|eml)$/i.test(f)).sort();
  const expectedFile = `${folder.replace(/\/+$/, "")}-expected.json`;
  const expected: Expected | null = existsSync(expectedFile) ? JSON.parse(readFileSync(expectedFile, "utf8")) : null;

  const dataDir = mkdtempSync(path.join(os.tmpdir(), "mailgate-corpus-"));
  const config = parseConfig({ ...process.env, DATA_DIR: dataDir, ADMIN_API_TOKEN: "corpus-token-0123456789", LOG_LEVEL: "silent" });
  const ctx = await buildContext(config, { inMemory: !config.databaseUrl });
  try {
    // Everyone is unmapped in a corpus: a default company makes each normal mail a ticket.
    await ctx.db.insert(companies).values({ name: "Corpus default", isDefault: true });
    const [source] = await ctx.db
      .insert(mailSources)
      .values({ kind: "api", name: "corpus", address: "corpus@mailgate.test", role: "system", status: "connected" })
      .returning();
    const ids = new Map<string, string>();
    for (const file of files) {
      const raw = readFileSync(path.join(folder, file));
      ids.set(file, (await storeInbound(ctx.db, { sourceId: source!.id, providerMessageId: file, raw, receivedAt: ctx.clock.now() })).id);
    }
    while (await processNextMessage(ctx));

    const rows = await ctx.db.select().from(inboundMessages).where(inArray(inboundMessages.id, [...ids.values()]));
    const byId = new Map(rows.map((r) => [r.id, r]));
    const counts: Record<string, number> = {};
    const mismatches: string[] = [];
    console.log(["file", "status", "from", "subject", "attachments", "check"].join("\t"));
    for (const file of files) {
      const row = byId.get(ids.get(file)!)!;
      counts[row.status] = (counts[row.status] ?? 0) + 1;
      // Mail that made no ticket message (a duplicate, an ignored bounce) stored no attachments:
      // its attachments are checked as parsed instead.
      const stored = await storedAttachments(ctx, row.id);
      const hasMessage = row.status === "ticket_created" || row.status === "note_added";
      const seen = hasMessage ? stored : await parsedAttachments(readFileSync(path.join(folder, file)));
      const problems = expected?.[file] ? check(expected[file]!, row.fromAddress, row.subject, seen) : [];
      if (problems.length) mismatches.push(`${file}: ${problems.join("; ")}`);
      const detail = row.status === "failed" ? row.error : row.reason;
      console.log(
        [file, row.status + (detail ? ` (${detail})` : ""), row.fromAddress ?? "", JSON.stringify(row.subject ?? ""), stored.length, problems.length ? "MISMATCH" : expected ? "ok" : "-"].join("\t"),
      );
    }
    console.log(`\n${files.length} files: ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(", ")}`);
    if (expected) console.log(`${files.length - mismatches.length} match the expected values, ${mismatches.length} do not`);
    for (const m of mismatches) console.log(`  ${m}`);
  } finally {
    await ctx.database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// The sender's name (decoding is what is checked), or the one mailgate made up when there was none.
type Seen = { filename: string; hashes: string[] };

// The expected hashes were sometimes taken after CRLF → LF conversion: accept either form.
const hashesOf = (content: Buffer) => {
  const lf = Buffer.from(content.toString("latin1").replace(/\r\n/g, "\n"), "latin1");
  return [content, lf].flatMap((b) => [createHash("sha256").update(b).digest("hex"), createHash("md5").update(b).digest("hex")]);
};

async function storedAttachments(ctx: Awaited<ReturnType<typeof buildContext>>, inboundId: string): Promise<Seen[]> {
  const rows = await ctx.db
    .select({ filename: attachments.filename, originalFilename: attachments.originalFilename, content: attachmentBlobs.content })
    .from(attachments)
    .innerJoin(ticketMessages, eq(ticketMessages.id, attachments.ticketMessageId))
    .innerJoin(attachmentBlobs, eq(attachmentBlobs.sha256, attachments.sha256))
    .where(eq(ticketMessages.inboundMessageId, inboundId));
  return rows.map((r) => ({ filename: r.originalFilename ?? r.filename, hashes: hashesOf(r.content) }));
}

async function parsedAttachments(raw: Buffer): Promise<Seen[]> {
  try {
    return (await parseEmail(raw)).attachments.map((a) => ({ filename: a.originalFilename ?? a.filename, hashes: hashesOf(a.content) }));
  } catch {
    return [];
  }
}

function check(
  want: Expected[string],
  from: string | null,
  subject: string | null,
  seen: Seen[],
): string[] {
  const problems: string[] = [];
  if ((from ?? "").toLowerCase() !== want.from_email.toLowerCase()) problems.push(`from ${from} ≠ ${want.from_email}`);
  if ((subject ?? "") !== (want.subject ?? "")) problems.push(`subject ${JSON.stringify(subject)} ≠ ${JSON.stringify(want.subject)}`);
  // Zammad adds a synthetic message.html for HTML bodies; it is not an attachment of the email.
  for (const a of want.attachments.filter((a) => a.filename !== "message.html")) {
    const match = seen.find((s) => s.hashes.includes(a.sha256 ?? "") || s.hashes.includes(a.md5 ?? ""));
    if (!match) problems.push(`attachment ${a.filename} missing or different`);
    else if (match.filename !== a.filename) problems.push(`attachment named ${JSON.stringify(match.filename)} ≠ ${JSON.stringify(a.filename)}`);
  }
  return problems;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
