// Starts and stops the Gmail sources this instance owns.
import type { Context } from "../../context.js";
import type { Runtime } from "../../runtime.js";

export function startGmailSources(_ctx: Context): Runtime {
  return { stop: async () => {} };
}
