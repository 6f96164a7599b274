// Starts the background parts an instance runs for its roles, and stops them in reverse order.
import type { Context } from "./context.js";

export type Runtime = { stop(): Promise<void> };

export function startRuntime(_ctx: Context): Runtime {
  const parts: Runtime[] = [];
  return {
    stop: async () => {
      for (const part of parts.reverse()) await part.stop();
    },
  };
}
