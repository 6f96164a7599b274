import type { Context } from "../../context.js";
import type { SourceRecord } from "../../db/sources.js";
import { unprocessable } from "../../errors.js";

/** "Authorize" / "Re-authorize": returns the provider's consent URL for this source. */
export async function authorizeGraph(_ctx: Context, source: SourceRecord): Promise<{ authorizationUrl: string }> {
  throw unprocessable("not_available", "OAuth authorization is not available for this kind yet.", { kind: source.kind });
}
