// Writes webhooks/schemas/<type>.schema.json from src/delivery/event-types.ts, the one source of
// truth. Run `npm run webhooks:schemas` after changing an event; tests/contract fails when the
// committed files differ from what this would write.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { EVENT_TYPES, envelopeSchema } from "../src/delivery/event-types.ts";

export const SCHEMAS_DIR = fileURLToPath(new URL("../webhooks/schemas/", import.meta.url));

/** File name → content, for every event type. */
export function webhookSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const type of EVENT_TYPES) {
    // "input" leaves out additionalProperties: false, so consumers that validate keep accepting
    // payloads after we add a field (the contract promises additions are not breaking).
    const schema = z.toJSONSchema(envelopeSchema(type), { target: "draft-2020-12", io: "input" });
    files.set(`${type}.schema.json`, JSON.stringify(schema, null, 2) + "\n");
  }
  return files;
}

function main() {
  const files = webhookSchemaFiles();
  mkdirSync(SCHEMAS_DIR, { recursive: true });
  // A removed event type must not leave its schema behind.
  for (const name of readdirSync(SCHEMAS_DIR)) {
    if (name.endsWith(".schema.json") && !files.has(name)) rmSync(join(SCHEMAS_DIR, name));
  }
  for (const [name, content] of files) writeFileSync(join(SCHEMAS_DIR, name), content);
  console.log(`wrote ${files.size} schemas to ${SCHEMAS_DIR}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
