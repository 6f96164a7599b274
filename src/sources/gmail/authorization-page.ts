// The page the administrator's browser lands on after Google's consent screen.
import type { AuthorizationOutcome } from "./complete-authorization.js";

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

function page(title: string, lead: string, detail: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · mailgate</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>${escape(title)}</h1><p>${escape(lead)}</p>${detail ? `<p>${escape(detail)}</p>` : ""}<p>You can close this window.</p>
</body></html>`;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
