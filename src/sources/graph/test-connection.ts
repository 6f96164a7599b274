import type { Context } from "../../context.js";
import type { SourceRecord } from "../../db/sources.js";
import type { ConnectionTestResult } from "../test-connection.js";

export async function testGraphConnection(_ctx: Context, _source: SourceRecord): Promise<ConnectionTestResult> {
  return { ok: false, error: { code: "not_available", message: "Testing this kind of source is not available yet." } };
}
