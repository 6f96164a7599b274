// Starts and stops the Graph sources this instance owns.
import type { Context } from "../../context.js";
import type { Runtime } from "../../runtime.js";

export function startGraphSources(_ctx: Context): Runtime {
  return { stop: async () => {} };
}
