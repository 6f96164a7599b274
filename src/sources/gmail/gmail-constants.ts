// Fixed facts of the Gmail integration: paths Google calls back on, the scopes asked for, and the
// service account Gmail publishes to Pub/Sub as.
export const OAUTH_CALLBACK_PATH = "/admin/oauth/google/callback";
export const PUSH_PATH = "/push/gmail";

/** The guide's scopes: read mail, and modify it for the optional post-processing (label, mark read). */
export const GMAIL_SCOPES = ["https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/gmail.modify"];

/** Gmail publishes watch notifications as this account: it needs Pub/Sub Publisher on the topic. */
export const GMAIL_PUBLISHER = "gmail-api-push@system.gserviceaccount.com";

/** The kind of the durable sync_requests row a notification leaves for a mailbox. */
export const SYNC_REQUEST_KIND = "gmail_history";
export const SYNC_REQUEST_KEY = "history";
