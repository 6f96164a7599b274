// Starts the background parts an instance runs for its roles, and stops them in reverse order.
import type { Context } from "./context.js";
import { startPipelineWorkers } from "./pipeline/worker.js";
import { startDispatcher } from "./delivery/dispatcher.js";
import { startRetention } from "./scheduler/retention.js";
import { startGmailSources } from "./sources/gmail/runtime.js";
import { startGraphSources } from "./sources/graph/runtime.js";
import { startImapSources } from "./sources/imap/imap-sources.js";

export type Runtime = { stop(): Promise<void> };

export function startRuntime(ctx: Context): Runtime {
  const parts: Runtime[] = [];
  const roles = ctx.config.roles;
  if (roles.includes("worker")) {
    parts.push(startPipelineWorkers(ctx));
    parts.push(startDispatcher(ctx));
    parts.push(startRetention(ctx));
  }
  if (roles.includes("sources")) {
    parts.push(startGmailSources(ctx));
    parts.push(startGraphSources(ctx));
    parts.push(startImapSources(ctx));
  }
  return {
    stop: async () => {
      for (const part of parts.reverse()) await part.stop();
    },
  };
}
