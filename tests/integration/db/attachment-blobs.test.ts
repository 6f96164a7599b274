// Attachment files are stored once by their hash: a batch sends only the files the database
// does not hold yet.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows, sql } from "../../../src/db/client.ts";
import { blobsNotStored } from "../../../src/db/pending-writes.ts";
import { attachmentBlobs } from "../../../src/db/schema.ts";
import { buildEmail } from "../../helpers/build-email.ts";
import { createCompany, createSource, deliver } from "../../helpers/pipeline.ts";
import { createTestContext, type TestContext } from "../../helpers/test-context.ts";

let t: TestContext;
const blob = (text: string) => {
  const content = Buffer.from(text);
  return { sha256: createHash("sha256").update(content).digest("hex"), size: content.length, content };
};

beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => t.close());

describe("blobsNotStored", () => {
  it("When a batch carries a logo already stored and a new file, then only the new file is sent", async () => {
    const logo = blob("the company logo");
    const report = blob("a new report");
    await t.ctx.db.insert(attachmentBlobs).values(logo);

    const toSend = await blobsNotStored(t.ctx.db, [logo, report]);

    expect(toSend.map((b) => b.sha256)).toEqual([report.sha256]);
  });

  it("When every file of a batch is new, then all are sent, and none when there are none", async () => {
    const files = [blob("first new file"), blob("second new file")];
    expect(await blobsNotStored(t.ctx.db, files)).toEqual(files);
    expect(await blobsNotStored(t.ctx.db, [])).toEqual([]);
  });

  it("When two mails in two batches carry the same file, then it is stored once and each mail lists it, with its bytes", async () => {
    const sourceId = await createSource(t);
    await createCompany(t, "Acme", ["acme.com"]);
    const logo = Buffer.from("89504e47 a signature logo, the same in every mail");
    const mail = (n: number) =>
      buildEmail({ from: `user${n}@acme.com`, subject: `printer ${n}`, text: "See below.", attachments: [{ filename: "logo.png", contentType: "image/png", content: logo }] });
    await deliver(t, sourceId, mail(1));
    await deliver(t, sourceId, mail(2));

    const sha256 = createHash("sha256").update(logo).digest("hex");
    const [stored] = await queryRows<{ files: number; listed: number }>(
      t.ctx.db,
      sql`select (select count(*)::int from attachment_blobs where sha256 = ${sha256}) as files,
                 (select count(*)::int from attachments where sha256 = ${sha256}) as listed`,
    );
    expect(stored).toEqual({ files: 1, listed: 2 });
    const [second] = await queryRows<{ id: string }>(t.ctx.db, sql`select id from attachments where sha256 = ${sha256} order by created_at desc limit 1`);
    const res = await t.api.get(`/api/attachments/${second!.id}/content`).buffer(true).expect(200);
    expect(Buffer.from(res.body as Buffer)).toEqual(logo);
  });
});
