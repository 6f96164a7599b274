// The page the administrator's browser lands on after Google's consent screen.
import type { AuthorizationOutcome } from "./complete-authorization.ts";
import { oauthResultPage as page } from "../oauth-result-page.ts";

export function authorizationPage(outcome: AuthorizationOutcome): { status: number; html: string } {
  switch (outcome.kind) {
    case "connected": {
      const w = outcome.watch;
      const detail =
        w === null
          ? "No Pub/Sub topic is configured, so mail is read every 5 minutes and on Process Now. Set topicName for real-time tickets."
          : w.ok
            ? "Real-time notifications are on: new mail becomes tickets within seconds."
            : `Mail is read, but real-time notifications could not be set up: ${w.message}`;
      return { status: 200, html: page("Gmail connected", `${outcome.address} is connected to mailgate.`, detail) };
    }
    case "invalid_state":
      return { status: 400, html: page("Authorization link expired", "This sign-in link has expired or was already used.", "Click Authorize on the source in mailgate again.") };
    case "denied":
      return { status: 400, html: page("Authorization not completed", outcome.message, "Click Authorize on the source in mailgate to try again.") };
    case "token_failed":
      return { status: 502, html: page("Authorization failed", outcome.message, "") };
  }
}
