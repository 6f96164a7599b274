// A watch that Gmail refused, told as what the administrator has to fix in Google Cloud.
import { GMAIL_PUBLISHER } from "./gmail-constants.ts";
import type { GmailFailure } from "./gmail-failure.ts";

export function describeWatchFailure(failure: GmailFailure, topicName: string): { code: string; message: string } {
  const text = failure.message;
  if (failure.kind === "reauth") return { code: failure.code, message: failure.message };
  if (failure.kind === "forbidden" && /pubsub|publish|not authorized|permission/i.test(text)) {
    return {
      code: "topic_permission_denied",
      message: `Gmail may not publish to ${topicName}: grant the role "Pub/Sub Publisher" on that topic to ${GMAIL_PUBLISHER} (Pub/Sub → Topics → the topic → Permissions → Add principal). Gmail said: ${text}`,
    };
  }
  if (failure.kind === "not_found" || (failure.kind === "invalid" && /topic|not found|does not exist/i.test(text))) {
    return {
      code: "topic_not_found",
      message: `The Pub/Sub topic ${topicName} does not exist or is not named projects/<project>/topics/<topic>: create it in the OAuth client's project and set topicName to its full name. Gmail said: ${text}`,
    };
  }
  return { code: "watch_failed", message: `Gmail refused to watch the inbox on ${topicName}: ${text}` };
}
