// "Add Email Source" (and Edit): the guide's forms for Gmail, Microsoft 365, IMAP, mail forwarded to
// the SMTP listener and mail posted by a mail service, with the SMTP block for the kinds without a
// provider to send with. Saving creates the source (or PATCHes it) and then runs Test Connection
// (IMAP, SMTP, and a mail service's, which answers the URL to give the service), or offers
// Authorize for OAuth.
import { api, listAll } from "../api.js";
import { button, h, outcome, replace } from "../dom.js";
import { checked, field, onSubmit, problemBox, value } from "../forms.js";
import { authorizeInPopup } from "./authorize-source.js";
import { KIND_LABELS, testResultText } from "./source-labels.js";

// [name, IMAP server, SMTP server, SMTP port, SMTP security]; IMAP is 993 with SSL/TLS for all.
const PROVIDERS = [
  ["iCloud", "imap.mail.me.com", "smtp.mail.me.com", 587, "starttls"],
  ["FastMail", "imap.fastmail.com", "smtp.fastmail.com", 465, "ssl"],
  ["Zoho", "imap.zoho.com", "smtp.zoho.com", 465, "ssl"],
  ["GoDaddy", "imap.secureserver.net", "smtpout.secureserver.net", 465, "ssl"],
];
const SECURITY_OPTIONS = [["ssl", "SSL/TLS"], ["starttls", "STARTTLS"], ["none", "None (plain text: trusted networks only)"]];
const SECURITY_LABELS = { ssl: "SSL", starttls: "STARTTLS", none: "None" };
const FORM_KINDS = [
  ["gmail", "Gmail (OAuth2)"],
  ["graph", "Microsoft 365 (OAuth2)"],
  ["imap", "IMAP"],
  ["smtp", "SMTP (forwarded)"],
  ["inbound-webhook", "Mail service (webhook)"],
];
// The kinds that may send replies through an SMTP block of their own (the API's SMTP_KINDS).
const SMTP_BLOCK_KINDS = ["imap", "api", "smtp", "inbound-webhook"];
const WEBHOOK_PROVIDERS = [
  ["ses", "Amazon SES (through SNS)"],
  ["mailgun", "Mailgun (route forwarding raw MIME)"],
  ["sendgrid", "SendGrid Inbound Parse"],
  ["postmark", "Postmark inbound"],
];
// The providers whose URL carries HTTP Basic credentials (user:password@), as they document.
const BASIC_PROVIDERS = ["sendgrid", "postmark"];

export async function render(main, route) {
  const editing = route.params[0] === "edit";
  const [companies, source] = await Promise.all([listAll("/companies"), editing ? api.get(`/sources/${route.params[1]}`) : null]);
  const kind = source?.kind ?? (FORM_KINDS.some(([k]) => k === route.params[1]) ? route.params[1] : "imap");
  let saved = source;
  let stopWatching = () => {};
  const result = h("div", { class: "outcome" });
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "form-title", novalidate: true },
    problemBox(),
    // "#/sources/new/imap/<companyId>" (from a company's page) starts as that company's mailbox.
    commonFields(source ?? (route.params[2] ? { role: "company", companyId: route.params[2] } : null), companies),
    h("fieldset", {}, h("legend", {}, `${KIND_LABELS[kind]} settings`), kindFields(kind, source)),
    SMTP_BLOCK_KINDS.includes(kind) ? smtpFieldset(kind, source) : null,
    acknowledgementFieldset(source),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, kind === "imap" ? "Save and Test Connection" : "Save"), h("a", { class: "button", href: "#/sources" }, "Back to the list")),
    result,
  );
  onSubmit(form, async () => {
    const body = collect(form, kind, Boolean(saved));
    saved = saved ? await api.patch(`/sources/${saved.id}`, body) : await api.post("/sources", body);
    if (kind === "api" && !saved.smtp) {
      // Nothing to connect to: the mail comes from the administrator's own scripts.
      outcome(result, "ok", "Saved. Your scripts post each raw email to ", h("code", {}, `POST /api/inbound?sourceId=${saved.id}`), ".");
    } else if (kind === "inbound-webhook") {
      outcome(result, "info", "Saved. Asking for the URL to give the mail service…");
      const test = await api.post(`/sources/${saved.id}/test`);
      if (test.ok) outcome(result, "ok", webhookUrlLines(saved, test));
      else outcome(result, "bad", `Saved. ${testResultText(test)}`, " Correct the settings and save again.");
    } else if (SMTP_BLOCK_KINDS.includes(kind)) {
      outcome(result, "info", "Saved. Testing the connection…");
      const test = await api.post(`/sources/${saved.id}/test`);
      outcome(result, test.ok ? "ok" : "bad", `Saved. ${testResultText(test)}`, test.ok ? "" : " Correct the settings and save again.");
    } else {
      const authorize = button("Authorize", async (e) => {
        stopWatching();
        stopWatching = await authorizeInPopup(e.target, saved, result, () => (location.hash = "#/sources"));
      }, { class: "primary" });
      outcome(result, "ok", "Saved. Next: click Authorize and complete the sign-in in the popup window. ", authorize);
    }
  });
  replace(
    main,
    h("h1", { id: "form-title" }, editing ? `Edit ${source.name}` : "Add Email Source"),
    editing ? null : h("nav", { class: "tabs", "aria-label": "Kind of source" }, FORM_KINDS.map(([k, label]) => h("a", { href: `#/sources/new/${k}${route.params[2] ? `/${route.params[2]}` : ""}`, "aria-current": k === kind ? "page" : null }, label))),
    h("p", { class: "lead" }, KIND_INTRO[kind]),
    kindGuide(kind),
    form,
  );
  return () => stopWatching();
}

const KIND_INTRO = {
  gmail: "Gmail uses OAuth2: no password is stored. Create OAuth credentials in Google Cloud, enter them here, save, then Authorize.",
  graph: "Microsoft 365 uses OAuth2 and the Microsoft Graph API. Register an app in Azure, enter its IDs and secret here, save, then Authorize.",
  imap: "For providers without OAuth2. Many providers require an app-specific password (iCloud: Apple ID → Security → App-Specific Passwords; Yahoo/AOL: Account Security → Generate app password; Zoho: Security → App Passwords).",
  api: "Raw MIME posted to POST /api/inbound?sourceId=… by your own scripts.",
  smtp: "Mail handed to mailgate's SMTP listener (SMTP_LISTEN) by a forwarding rule, a relay or an MX record, for the addresses below. See docs/smtp-listener.md for Google Workspace, Microsoft 365 and Postfix.",
  "inbound-webhook": "Mail a mail service (Amazon SES, Mailgun, SendGrid or Postmark) receives for you and posts to mailgate, each message signed or behind a password. After saving, this page shows the URL to paste into the service. See docs/inbound-webhooks.md for each service's setup.",
};

const redirectUri = (provider) => `${location.origin}/admin/oauth/${provider}/callback`;

function steps(summary, items) {
  return h("details", { class: "guide" }, h("summary", {}, summary), h("ol", {}, items.map((i) => h("li", {}, i))));
}

function kindGuide(kind) {
  const code = (t) => h("code", {}, t);
  switch (kind) {
    case "gmail":
      return steps("Google Cloud steps", [
        "Create a project in Google Cloud Console and enable the Gmail API (APIs & Services → Library).",
        ["OAuth consent screen: Internal (Google Workspace) or External; add the scopes ", code("https://www.googleapis.com/auth/gmail.readonly"), " and ", code("https://www.googleapis.com/auth/gmail.modify"), "."],
        ["Credentials → Create Credentials → OAuth client ID, type Web application, Authorized redirect URI: ", code(redirectUri("google")), "."],
        "Copy the Client ID and Client Secret into this form, save, and click Authorize.",
      ]);
    case "graph":
      return steps("Azure portal steps", [
        ["Microsoft Entra ID → App registrations → New registration: accounts in this organizational directory only; Redirect URI (Web): ", code(redirectUri("microsoft")), "."],
        "Note the Application (client) ID and the Directory (tenant) ID.",
        ["API permissions → Microsoft Graph → Delegated: ", code("Mail.Read"), ", ", code("Mail.ReadWrite"), ", ", code("User.Read"), "; then Grant admin consent."],
        "Certificates & secrets → New client secret: copy its Value at once (it is shown only once).",
      ]);
    case "imap":
      return h(
        "details",
        { class: "guide", open: true },
        h("summary", {}, "Supported providers"),
        h(
          "table",
          { class: "compact" },
          h("thead", {}, h("tr", {}, ["Provider", "IMAP server", "Port", "Security", "SMTP server", "Port", "Security"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            PROVIDERS.map(([name, host, smtpHost, smtpPort, smtpSecurity]) =>
              h("tr", {}, [name, code(host), "993", "SSL", code(smtpHost), String(smtpPort), SECURITY_LABELS[smtpSecurity]].map((cell) => h("td", {}, cell))),
            ),
            h("tr", {}, ["Custom", "Your server", "993/143", "SSL/TLS", "Your server", "587/465", "STARTTLS/SSL"].map((cell) => h("td", {}, cell))),
          ),
        ),
      );
    default:
      return null;
  }
}

function commonFields(source, companies) {
  const schedule = source?.schedule ?? { mode: "continuous" };
  const role = field({
    label: "Role",
    name: "role",
    value: source?.role ?? "system",
    options: [
      ["system", "System mailbox: routes by sender domain"],
      ["company", "Company mailbox: all mail becomes tickets for one company"],
    ],
  });
  const company = field({
    label: "Company",
    name: "companyId",
    value: source?.companyId ?? "",
    options: [["", companies.length ? "Choose a company" : "No companies yet: create one under Companies"], ...companies.map((c) => [c.id, c.name])],
  });
  const mode = field({
    label: "Processing schedule",
    name: "schedule.mode",
    value: schedule.mode,
    options: [
      ["continuous", "Continuous: real time, plus a safety-net sync every 5 minutes"],
      ["scheduled", "Scheduled: specific times (e.g. business hours only)"],
      ["manual", "Manual: on demand with Process Now (testing, troubleshooting)"],
    ],
  });
  const timing = h(
    "div",
    { class: "row" },
    field({ label: "Cron expressions", name: "schedule.cron", type: "textarea", rows: 2, value: (schedule.cron ?? ["0 8-18 * * 1-5"]).join("\n"), help: "One per line: minute hour day-of-month month day-of-week, e.g. 0 8-18 * * 1-5 (weekdays 8:00–18:59)." }),
    field({ label: "Time zone", name: "schedule.timezone", value: schedule.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, help: "An IANA time zone, e.g. Europe/Berlin." }),
  );
  const sync = () => {
    company.hidden = role.querySelector("select").value !== "company";
    timing.hidden = mode.querySelector("select").value !== "scheduled";
  };
  role.addEventListener("change", sync);
  mode.addEventListener("change", sync);
  sync();
  return [
    h(
      "div",
      { class: "row" },
      field({ label: "Name", name: "name", value: source?.name, required: true, help: "How this mailbox is called in mailgate, e.g. Support inbox." }),
      field({ label: "Email address", name: "address", type: "email", value: source?.address, required: true, autocomplete: "off", help: "The support address people write to." }),
    ),
    h("div", { class: "row" }, role, company),
    mode,
    timing,
  ];
}

function secretHelp(source, text) {
  return source ? `${text} Leave blank to keep the stored one.` : text;
}

function kindFields(kind, source) {
  switch (kind) {
    case "imap":
      return imapFields(source?.imap);
    case "gmail": {
      const g = source?.gmail ?? {};
      return [
        field({ label: "Client ID", name: "gmail.clientId", value: g.clientId, required: true, help: "From Google Cloud → Credentials → your OAuth client." }),
        field({ label: "Client Secret", name: "gmail.clientSecret", type: "password", required: !source, autocomplete: "off", help: secretHelp(source, "Stored encrypted, never shown again.") }),
        redirectField("gmail.redirectUri", g.redirectUri, "google", "Google"),
        h(
          "div",
          { class: "row" },
          field({ label: "Notifications", name: "gmail.delivery", value: g.delivery ?? "push", options: [["push", "Push (Pub/Sub calls mailgate)"], ["pull", "Pull (mailgate pulls from Pub/Sub)"]] }),
          field({ label: "Pub/Sub topic", name: "gmail.topicName", value: g.topicName, help: "For real-time tickets, e.g. projects/my-project/topics/mailgate. Without one, mail is read every 5 minutes and on Process Now." }),
        ),
        field({ label: "Pub/Sub subscription (pull only)", name: "gmail.subscriptionName", value: g.subscriptionName, help: "e.g. projects/my-project/subscriptions/mailgate" }),
        h(
          "div",
          { class: "row" },
          field({ label: "Add label after processing", name: "gmail.postProcess.addLabel", value: g.postProcess?.addLabel, help: "Optional, e.g. mailgate." }),
          field({ label: "Mark as read after processing", name: "gmail.postProcess.markRead", type: "checkbox", value: g.postProcess?.markRead }),
        ),
      ];
    }
    case "graph": {
      const g = source?.graph ?? {};
      return [
        h(
          "div",
          { class: "row" },
          field({ label: "Tenant ID", name: "graph.tenantId", value: g.tenantId, required: true, help: "The Directory (tenant) ID of the app registration." }),
          field({ label: "Client ID", name: "graph.clientId", value: g.clientId, required: true, help: "The Application (client) ID." }),
        ),
        field({ label: "Client Secret", name: "graph.clientSecret", type: "password", required: !source, autocomplete: "off", help: secretHelp(source, "The secret's Value (not its ID). Stored encrypted, never shown again.") }),
        redirectField("graph.redirectUri", g.redirectUri, "microsoft", "Azure"),
      ];
    }
    case "smtp":
      return listenerFields(source);
    case "inbound-webhook":
      return webhookFields(source);
    default:
      return h("p", { class: "muted" }, "An API source has no settings of its own.");
  }
}

/** The addresses an SMTP-listener source owns besides its email address, and its optional AUTH login. */
function listenerFields(source) {
  const auth = source?.config?.auth ?? null;
  return [
    field({ label: "More addresses", name: "addresses", type: "textarea", rows: 2, value: (source?.addresses ?? []).join("\n"), help: "One per line; mail for them is accepted too (e.g. help@… besides support@…)." }),
    h(
      "div",
      { class: "row" },
      field({ label: "AUTH user", name: "config.auth.user", value: auth?.user, autocomplete: "off", help: "Optional: the login a sending server must use to deliver to these addresses. Blank: no login." }),
      field({ label: "AUTH password", name: "config.auth.password", type: "password", autocomplete: "new-password", help: auth?.hasPassword ? "Leave blank to keep the stored password." : "At least 8 characters. Stored encrypted, never shown again." }),
    ),
  ];
}

/**
 * The mail service and what proves a post comes from it: Mailgun's signing key, SendGrid's and
 * Postmark's Basic credentials, or the SNS topic for SES. Only the chosen provider's fields show.
 */
function webhookFields(source) {
  const c = source?.config ?? {};
  const stored = c.provider ?? null;
  const keep = (has, text) => (has ? "Leave blank to keep the stored one." : text);
  const provider = field({ label: "Mail service", name: "config.provider", value: stored ?? "ses", options: WEBHOOK_PROVIDERS, help: "Which service posts the mail." });
  const groups = {
    ses: field({ label: "SNS topic ARN", name: "config.topicArn", value: c.topicArn, autocomplete: "off", help: "The topic your SES receipt rule publishes to (encoding Base64), e.g. arn:aws:sns:eu-west-1:123456789012:mailgate-inbound. Posts from any other topic are refused." }),
    mailgun: field({ label: "Webhook signing key", name: "config.signingKey", type: "password", autocomplete: "new-password", help: keep(c.hasSigningKey, "Mailgun → Sending → Webhooks → HTTP webhook signing key. Stored encrypted, never shown again.") }),
    basic: h(
      "div",
      { class: "row" },
      field({ label: "Basic user", name: "config.user", value: c.user, autocomplete: "off", help: "The user name written into the URL the service posts to; no colon." }),
      field({ label: "Basic password", name: "config.password", type: "password", autocomplete: "new-password", help: keep(c.hasPassword, "At least 16 characters; it is all that protects the URL. Stored encrypted, never shown again.") }),
    ),
  };
  const select = provider.querySelector("select");
  const sync = () => {
    groups.ses.hidden = select.value !== "ses";
    groups.mailgun.hidden = select.value !== "mailgun";
    groups.basic.hidden = !BASIC_PROVIDERS.includes(select.value);
  };
  select.addEventListener("change", sync);
  sync();
  return [provider, groups.ses, groups.mailgun, groups.basic];
}

/**
 * After saving a mail-service source: the URL to paste into the service, from Test Connection
 * (which builds it from PUBLIC_URL). SendGrid and Postmark get it with the Basic credentials in
 * it, the password as a placeholder, since a stored secret is never shown back.
 */
function webhookUrlLines(source, test) {
  const provider = test.details.provider;
  const url = test.details.url;
  const copyable = (label, text) => {
    const copied = h("span", { class: "muted small", role: "status" });
    return h("p", {}, h("code", { "aria-label": label }, text), " ", button("Copy", async () => {
      await navigator.clipboard?.writeText(text).catch(() => undefined);
      copied.textContent = " Copied.";
    }, { class: "small", "aria-label": `Copy the ${label.toLowerCase()}` }), copied);
  };
  const user = source.config?.user;
  const lines = [h("p", {}, `Saved. Paste this URL into ${WEBHOOK_PROVIDERS.find(([p]) => p === provider)?.[1] ?? provider}:`)];
  if (BASIC_PROVIDERS.includes(provider) && user) {
    const { protocol, host, pathname } = new URL(url);
    lines.push(
      copyable("Service URL with credentials", `${protocol}//${encodeURIComponent(user)}:<password>@${host}${pathname}`),
      h("p", { class: "small muted" }, "Replace <password> with the Basic password you entered (URL-encoded if it holds characters such as @ : / ?). Without credentials the URL is ", h("code", {}, url), "."),
    );
  } else {
    lines.push(copyable("Service URL", url));
  }
  if (provider === "ses") lines.push(h("p", { class: "small muted" }, "Subscribe it to the topic as an HTTPS endpoint; mailgate confirms the subscription itself."));
  if (provider === "mailgun") lines.push(h("p", { class: "small muted" }, "Use it in a route's forward() action, so Mailgun posts the raw MIME."));
  return lines;
}

function redirectField(name, current, provider, where) {
  const f = field({
    label: "Redirect URI",
    name,
    type: "url",
    value: current ?? redirectUri(provider),
    required: true,
    help: `Paste exactly this into ${where} as the redirect URI (it must match exactly). If mailgate is reached under another public address (PUBLIC_URL), use that address + /admin/oauth/${provider}/callback.`,
  });
  const input = f.querySelector("input");
  const copied = h("span", { class: "muted small", role: "status" });
  f.append(button("Copy", async () => {
    await navigator.clipboard?.writeText(input.value).catch(() => undefined);
    copied.textContent = " Copied.";
  }, { class: "small", "aria-label": "Copy the redirect URI" }), copied);
  return f;
}

function imapFields(c = {}) {
  const post = c.postProcess ?? { action: "none" };
  const provider = field({
    label: "Provider",
    name: "provider",
    value: PROVIDERS.find(([, host]) => host === c.host)?.[1] ?? "",
    options: [["", "Custom server"], ...PROVIDERS.map(([name, host]) => [host, `${name} (${host})`])],
    help: "Fills in the server, port and security of a known provider.",
  });
  const nodes = [
    provider,
    h(
      "div",
      { class: "row" },
      field({ label: "IMAP server", name: "imap.host", value: c.host, required: true, autocomplete: "off", help: "e.g. imap.fastmail.com" }),
      field({ label: "Port", name: "imap.port", type: "number", min: 1, max: 65535, value: c.port ?? 993, required: true, help: "Usually 993 (SSL/TLS); 143 with STARTTLS." }),
      field({ label: "Security", name: "imap.security", value: c.security ?? "ssl", options: SECURITY_OPTIONS }),
    ),
    h(
      "div",
      { class: "row" },
      field({ label: "User name", name: "imap.user", value: c.user, autocomplete: "off", help: "Usually the email address; left blank, the email address is used." }),
      field({ label: "Password", name: "imap.password", type: "password", required: !c.host, autocomplete: "new-password", help: c.host ? "Leave blank to keep the stored password." : "The password or an app-specific password. Stored encrypted, never shown again." }),
    ),
    h(
      "div",
      { class: "row" },
      field({ label: "Folder", name: "imap.folder", value: c.folder ?? "INBOX", required: true }),
      field({ label: "After processing", name: "imap.postProcess.action", value: post.action, options: [["none", "Leave the message as it is"], ["mark_seen", "Mark as read"], ["move", "Move to a folder"]] }),
      field({ label: "Move to folder", name: "imap.postProcess.folder", value: post.folder, help: "Only with Move, e.g. Processed." }),
    ),
  ];
  provider.querySelector("select").addEventListener("change", (e) => {
    const form = e.target.form;
    const known = PROVIDERS.find(([, host]) => host === e.target.value);
    if (!known) return;
    const set = (name, v) => (form.elements.namedItem(name).value = String(v));
    set("imap.host", known[1]);
    set("imap.port", 993);
    set("imap.security", "ssl");
    set("smtp.host", known[2]);
    set("smtp.port", known[3]);
    set("smtp.security", known[4]);
  });
  return nodes;
}

/**
 * Outgoing mail: replies leave through this SMTP server. Switched off, the fields are hidden and
 * saving an edit removes the stored block.
 */
function smtpFieldset(kind, source) {
  const c = source?.smtp ?? {};
  const stored = Boolean(source?.smtp);
  const enabled = field({
    label: "Send replies through SMTP",
    name: "smtp.enabled",
    type: "checkbox",
    value: stored,
    help: kind === "imap" ? "Usually the same provider as IMAP, with its own server name." : "This source has no provider of its own to send with.",
  });
  const fields = h(
    "div",
    {},
    h(
      "div",
      { class: "row" },
      field({ label: "SMTP server", name: "smtp.host", value: c.host, autocomplete: "off", help: "e.g. smtp.fastmail.com" }),
      field({ label: "SMTP port", name: "smtp.port", type: "number", min: 1, max: 65535, value: c.port ?? 587, help: "587 with STARTTLS; 465 with SSL/TLS." }),
      field({ label: "SMTP security", name: "smtp.security", value: c.security ?? "starttls", options: SECURITY_OPTIONS }),
    ),
    h(
      "div",
      { class: "row" },
      field({ label: "SMTP user name", name: "smtp.user", value: c.user, autocomplete: "off", help: "Usually the email address; left blank, the email address is used." }),
      field({ label: "SMTP password", name: "smtp.password", type: "password", autocomplete: "new-password", help: stored ? "Leave blank to keep the stored password." : "Often the same app-specific password as IMAP. Stored encrypted, never shown again." }),
    ),
    kind === "imap"
      ? h(
          "div",
          { class: "row" },
          field({ label: "Save a copy in the Sent folder", name: "smtp.saveToSent", type: "checkbox", value: c.saveToSent, help: "Turn on if your provider does not put mail sent through SMTP in Sent by itself." }),
          field({ label: "Sent folder", name: "smtp.sentFolder", value: c.sentFolder, help: "Blank: the folder the server marks as Sent, else Sent." }),
        )
      : null,
  );
  const checkbox = enabled.querySelector("input");
  const sync = () => (fields.hidden = !checkbox.checked);
  checkbox.addEventListener("change", sync);
  sync();
  return h("fieldset", {}, h("legend", {}, "Outgoing mail (SMTP)"), enabled, fields);
}

const ACKNOWLEDGEMENT_MODES = [
  ["rules", "As in Ticket rules"],
  ["off", "None for mail to this mailbox"],
  ["own", "This mailbox's own words"],
];

/** A mailbox's own acknowledgement over the ticket rules' (a company mailbox in its company's words, or none). */
function acknowledgementFieldset(source) {
  const own = source?.acknowledgement ?? null;
  const mode = own === null ? "rules" : own.enabled === false ? "off" : "own";
  const select = field({ label: "Acknowledgement", name: "acknowledgement.mode", value: mode, options: ACKNOWLEDGEMENT_MODES, help: "What a new ticket's sender gets from this mailbox. Placeholders as in Ticket rules: {{ticket.number}}, {{ticket.subject}}, {{contact.name}}, {{company.name}}, {{source.address}}." });
  const words = h(
    "div",
    {},
    field({ label: "Acknowledgement subject", name: "acknowledgement.subject", value: own?.subject, help: "Blank: the subject in Ticket rules. The ticket's tag is added if missing." }),
    field({ label: "Acknowledgement text", name: "acknowledgement.text", type: "textarea", rows: 5, value: own?.text, help: "Sent as plain text." }),
  );
  const control = select.querySelector("select");
  const sync = () => (words.hidden = control.value !== "own");
  control.addEventListener("change", sync);
  sync();
  return h("fieldset", {}, h("legend", {}, "Acknowledgement"), select, words);
}

/** The source's acknowledgement: null goes back to the rules' (on an edit), undefined leaves it out. */
function collectAcknowledgement(form, editing) {
  const mode = value(form, "acknowledgement.mode");
  if (mode === "off") return { enabled: false };
  if (mode === "own") return { enabled: true, subject: optional(value(form, "acknowledgement.subject")), text: form.elements.namedItem("acknowledgement.text").value };
  return editing ? null : undefined;
}

// One expression (or address) per line: cron fields may hold commas themselves ("0 8,12 * * 1-5").
const cronLines = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean);
const optional = (v) => (v === "" ? undefined : v);

/** The request body. On an edit, blank secrets are left out, so the stored ones stay. */
function collect(form, kind, editing) {
  const v = (name) => value(form, name);
  const role = v("role");
  const mode = v("schedule.mode");
  const body = {
    name: v("name"),
    address: v("address"),
    role,
    companyId: role === "company" ? optional(v("companyId")) ?? null : null,
    schedule: mode === "scheduled" ? { mode, cron: cronLines(form.elements.namedItem("schedule.cron").value), timezone: v("schedule.timezone") } : { mode },
  };
  if (!editing) body.kind = kind;
  if (!editing && body.companyId === null) delete body.companyId;
  const secret = (name) => optional(form.elements.namedItem(name).value) ?? (editing ? undefined : "");
  if (kind === "imap") {
    const action = v("imap.postProcess.action");
    body.imap = {
      host: v("imap.host"),
      port: Number(v("imap.port")),
      security: v("imap.security"),
      user: v("imap.user") || v("address"),
      password: secret("imap.password"),
      folder: v("imap.folder"),
      postProcess: action === "move" ? { action, folder: optional(v("imap.postProcess.folder")) } : { action },
    };
  } else if (kind === "gmail") {
    body.gmail = {
      clientId: v("gmail.clientId"),
      clientSecret: secret("gmail.clientSecret"),
      redirectUri: v("gmail.redirectUri"),
      delivery: v("gmail.delivery"),
      topicName: optional(v("gmail.topicName")) ?? (editing ? null : undefined),
      subscriptionName: optional(v("gmail.subscriptionName")) ?? (editing ? null : undefined),
      postProcess: { addLabel: optional(v("gmail.postProcess.addLabel")), markRead: checked(form, "gmail.postProcess.markRead") },
    };
  } else if (kind === "graph") {
    body.graph = { tenantId: v("graph.tenantId"), clientId: v("graph.clientId"), clientSecret: secret("graph.clientSecret"), redirectUri: v("graph.redirectUri") };
  } else if (kind === "smtp") {
    body.addresses = cronLines(form.elements.namedItem("addresses").value);
    const user = optional(v("config.auth.user"));
    const auth = user ? { user, password: optional(form.elements.namedItem("config.auth.password").value) } : editing ? null : undefined;
    if (auth !== undefined) body.config = { auth };
  } else if (kind === "inbound-webhook") {
    body.config = collectWebhook(form, editing);
  }
  if (SMTP_BLOCK_KINDS.includes(kind)) {
    const smtp = collectSmtp(form, kind, editing);
    if (smtp !== undefined) body.smtp = smtp;
  }
  const acknowledgement = collectAcknowledgement(form, editing);
  if (acknowledgement !== undefined) body.acknowledgement = acknowledgement;
  return body;
}

/** The chosen provider's settings; on an edit, a blank key or password keeps the stored one. */
function collectWebhook(form, editing) {
  const provider = value(form, "config.provider");
  const secret = (name) => optional(form.elements.namedItem(name).value) ?? (editing ? undefined : "");
  switch (provider) {
    case "ses":
      return { provider, topicArn: value(form, "config.topicArn") };
    case "mailgun":
      return { provider, signingKey: secret("config.signingKey") };
    default:
      return { provider, user: value(form, "config.user"), password: secret("config.password") };
  }
}

/** The smtp block; null removes a stored one, undefined leaves it out. A blank password keeps the stored one. */
function collectSmtp(form, kind, editing) {
  const v = (name) => value(form, name);
  if (!checked(form, "smtp.enabled")) return editing ? null : undefined;
  const smtp = {
    host: v("smtp.host"),
    port: Number(v("smtp.port")),
    security: v("smtp.security"),
    user: v("smtp.user") || v("address"),
    password: optional(form.elements.namedItem("smtp.password").value),
  };
  if (kind === "imap") {
    smtp.saveToSent = checked(form, "smtp.saveToSent");
    smtp.sentFolder = optional(v("smtp.sentFolder")) ?? (editing ? null : undefined);
  }
  return smtp;
}
