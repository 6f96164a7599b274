import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { EVENT_TYPES, envelopeSchema, type EventType } from "../../src/delivery/event-types.ts";
import { SCHEMAS_DIR, webhookSchemaFiles } from "../../scripts/generate-webhook-schemas.ts";

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const EXAMPLES_DIR = new URL("../../webhooks/examples/", import.meta.url);

const readJson = (path: string | URL): unknown => JSON.parse(readFileSync(path, "utf8"));
const schemaOf = (type: EventType) => readJson(join(SCHEMAS_DIR, `${type}.schema.json`)) as Record<string, unknown>;
const exampleOf = (type: EventType) => readJson(new URL(`${type}.json`, EXAMPLES_DIR));

const newAjv = () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv;
};

// The published schemas allow unknown fields (additions are not breaking). To catch an example
// that carries a field the contract does not declare, the test also checks against a closed copy.
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== "object") return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === "properties" ? mapValues(v, closed) : closed(v)]));
  return "properties" in copy ? { ...copy, additionalProperties: false } : copy;
}
const mapValues = (o: object, f: (v: unknown) => unknown) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

describe("webhook JSON Schemas", () => {
  it("are exactly what `npm run webhooks:schemas` generates from src/delivery/event-types.ts now", () => {
    for (const [name, content] of webhookSchemaFiles()) {
      expect(readFileSync(join(SCHEMAS_DIR, name), "utf8"), `${name} is stale: run npm run webhooks:schemas`).toBe(content);
    }
  });

  it("exist once per event type, with nothing left over from removed types", () => {
    const files = readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith(".json")).sort();
    expect(files).toEqual(EVENT_TYPES.map((t) => `${t}.schema.json`).sort());
  });

  it("are valid draft 2020-12 schemas that pin the envelope's type", () => {
    const ajv = newAjv();
    for (const type of EVENT_TYPES) {
      const schema = schemaOf(type);
      expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      const validate = ajv.compile(schema);
      const other = type === "webhook.test" ? "ticket.created" : "webhook.test";
      expect(validate({ ...(exampleOf(type) as object), type: other })).toBe(false);
    }
  });

  it("accept a payload with a field added later, as the contract promises", () => {
    const validate = newAjv().compile(schemaOf("ticket.created"));
    const example = exampleOf("ticket.created") as { data: Record<string, unknown> };
    expect(validate({ ...example, data: { ...example.data, addedLater: { anything: true } } })).toBe(true);
  });
});

describe("webhook examples", () => {
  it("exist once per event type", () => {
    const files = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith(".json")).sort();
    expect(files).toEqual(EVENT_TYPES.map((t) => `${t}.json`).sort());
  });

  it.each(EVENT_TYPES)("%s validates against its published schema and declares no extra field", (type) => {
    const example = exampleOf(type);
    const ajv = newAjv();
    const open = ajv.compile(schemaOf(type));
    expect(open(example), ajv.errorsText(open.errors)).toBe(true);
    const strict = ajv.compile(closed(schemaOf(type)) as object);
    expect(strict(example), ajv.errorsText(strict.errors)).toBe(true);
  });

  it.each(EVENT_TYPES)("%s parses with the zod schema the code uses", (type) => {
    const parsed = envelopeSchema(type).safeParse(exampleOf(type));
    expect(parsed.success, parsed.error?.message).toBe(true);
  });
});
