// The page the administrator's browser lands on after Microsoft's sign-in.
import type { AuthorizationOutcome } from "./complete-authorization.ts";
import { oauthResultPage as page } from "../oauth-result-page.ts";

export function authorizationPage(outcome: AuthorizationOutcome): { status: number; html: string } {
  switch (outcome.kind) {
    case "connected": {
      const sub = outcome.subscription;
      const detail =
        sub === null
          ? "This source is in manual mode: its mailbox is read on Process Now."
          : sub.ok
            ? "Real-time notifications are on: new mail becomes tickets within seconds."
            : `Mail is read, but real-time notifications could not be set up: ${sub.message ?? "unknown error"}`;
      return { status: 200, html: page("Microsoft 365 connected", `${outcome.address} is connected to mailgate.`, detail) };
    }
    case "invalid_state":
      return {
        status: 400,
        html: page("Authorization link expired", "This sign-in link has expired or was already used.", "Click Authorize on the source in mailgate again."),
      };
    case "denied":
      return { status: 400, html: page("Authorization not completed", outcome.message, "") };
    case "token_failed":
      return { status: 502, html: page("Authorization failed", outcome.message, "") };
  }
}
