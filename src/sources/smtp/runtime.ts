// The SMTP listener as a part of the runtime: started in the background, stopped with the rest.
// A listener that cannot start (the port taken, a certificate file missing) is a configuration
// error: its rejection is left unhandled on purpose, so main.ts's fatal handler logs why
// (the message names the variable) and exits for the supervisor to restart.
import type { SmtpListenerConfig } from "../../config.ts";
import type { Context } from "../../context.ts";
import { startSmtpListener } from "./smtp-listener.ts";

export function runSmtpListener(ctx: Context, config: SmtpListenerConfig): { stop(): Promise<void> } {
  const started = startSmtpListener(ctx, config);
  return {
    stop: async () => {
      const listener = await started.catch(() => null);
      await listener?.stop();
    },
  };
}
