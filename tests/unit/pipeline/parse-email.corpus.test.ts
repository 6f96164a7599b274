// An outside check against 106 real-world mails and what another helpdesk (Zammad) extracts from
// them. The corpus is not ours to copy: it is read from ../shared/corpus when present.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseEmail } from "../../../src/pipeline/parse-email.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const corpusDir = path.resolve(repoRoot, "../shared/corpus/zammad-mail");
const expectedFile = path.resolve(repoRoot, "../shared/corpus/zammad-mail-expected.json");
const present = existsSync(corpusDir) && existsSync(expectedFile);

type Expected = Record<string, { from_email: string; subject: string | null; attachments: { filename: string; sha256: string }[] }>;

// Where we differ from Zammad on purpose or cannot follow it; anything else is a regression.
const KNOWN_MISMATCHES: Record<string, string> = {
  "mail035.box from": "Zammad keeps the quotes of a quoted address",
  "mail071.box from": 'an address with spaces ("power quadrant system@example.com"): we keep the part that is an address',
  "mail087.box from": "Zammad joins the display name into the address",
  "mail046.box subject":
    "raw 8-bit GB2312 in a spam report whose first part declares ISO-8859-1 (the GB2312 parts are in the attached original): Zammad guesses the charset, we read the first one declared",
  "mail062.box attachment document.html": "Zammad turns extra inline text/html parts into attachments; mailparser merges them into html",
  "mail062.box attachment document1.html": "as above",
  "mail085.box attachment document.html": "as above",
  "mail087.box attachment file": "Zammad turns a text/plain part after an attachment into an attachment; mailparser merges it into text",
};

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe.skipIf(!present)("parseEmail on the Zammad corpus", () => {
  const expected: Expected = present ? JSON.parse(readFileSync(expectedFile, "utf8")) : {};
  const files = present ? readdirSync(corpusDir).filter((f) => f.endsWith(".box")).sort() : [];

  it("When all 106 real-world mails are parsed, then none throws and sender, subject and attachments match apart from the known differences", async () => {
    expect(files).toHaveLength(106);
    const mismatches: string[] = [];
    for (const file of files) {
      const email = await parseEmail(readFileSync(path.join(corpusDir, file)));
      const want = expected[file];
      if (!want) throw new Error(`${file} has no expected values`);
      if ((email.from?.address ?? "") !== want.from_email.toLowerCase()) mismatches.push(`${file} from`);
      // Zammad writes a missing subject as null.
      if (email.subject !== (want.subject ?? "")) mismatches.push(`${file} subject`);
      // Hashes of the bytes as sent, or with CRLF turned into LF: Zammad's expectations for
      // CRLF files were taken after that conversion, and we keep the bytes as they arrived.
      const hashes = new Set(email.attachments.flatMap((a) => [a.sha256, sha256(Buffer.from(a.content.toString("latin1").replace(/\r\n/g, "\n"), "latin1"))]));
      for (const att of want.attachments) {
        // Zammad's synthetic copy of the HTML body is not an attachment of the mail.
        if (att.filename === "message.html") continue;
        if (!hashes.has(att.sha256)) mismatches.push(`${file} attachment ${att.filename}`);
      }
    }
    expect(mismatches.sort()).toEqual(Object.keys(KNOWN_MISMATCHES).sort());
  });

  it("When a corpus bounce is parsed, then the Message-ID of the bounced mail is found", async () => {
    const email = await parseEmail(readFileSync(path.join(corpusDir, "mail055.box")));
    expect(email.contentType).toBe("multipart/report");
    expect(email.reportType).toBe("delivery-status");
    expect(email.embeddedMessageIds.length).toBeGreaterThan(0);
  });
});
