// Email sources ("Settings → Email Configuration"): every mailbox with its connection status, and
// Test Connection, Process Now and Authorize / Re-authorize with their result shown in the row.
import { api, ApiError, listAll } from "../api.js";
import { badge, button, h, menu, outcome, replace, table, when } from "../dom.js";
import { authorizeInPopup } from "./authorize-source.js";
import { KIND_LABELS, countsLabel, scheduleLabel, testResultText } from "./source-labels.js";

export async function render(main, route) {
  if (route.params[0] === "new" || route.params[0] === "edit") return (await import("./source-forms.js")).render(main, route);
  const list = h("div", { "aria-live": "polite", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading sources…"));
  replace(
    main,
    h("div", { class: "head" }, h("h1", {}, "Email sources"), h("a", { class: "button primary", href: "#/sources/new/imap" }, "Add Email Source")),
    h("p", { class: "lead" }, "The mailboxes mailgate reads. A system mailbox routes by sender domain; a company mailbox turns all its mail into tickets for its company and is processed first."),
    list,
  );
  let stopWatching = () => {};
  const refresh = async () => {
    const [sources, companies, subscriptions] = await Promise.all([listAll("/sources"), listAll("/companies"), loadSubscriptions()]);
    const companyNames = new Map(companies.map((c) => [c.id, c.name]));
    replace(list, sourceTable(sources, companyNames, subscriptions, { refresh, authorize }));
    list.setAttribute("aria-busy", "false");
  };
  const authorize = async (btn, source, result) => {
    stopWatching();
    stopWatching = await authorizeInPopup(btn, source, result, refresh);
  };
  await refresh().catch((err) => replace(list, h("p", { class: "problem", role: "alert" }, err.message)));
  return () => stopWatching();
}

/** Subscription expiry per source; a server without the subscriptions API shows none. */
async function loadSubscriptions() {
  try {
    const { items } = await api.get("/subscriptions");
    const bySource = new Map();
    for (const s of items) if (!bySource.has(s.sourceId) || s.expiresAt > bySource.get(s.sourceId).expiresAt) bySource.set(s.sourceId, s);
    return bySource;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return new Map();
    throw err;
  }
}

function sourceTable(sources, companyNames, subscriptions, actions) {
  const headers = ["Source", "Role and schedule", "Status", "Last processed", "Last error", "Actions"];
  const rows = sources.map((s) => {
    const result = h("div", { class: "outcome" });
    const sub = subscriptions.get(s.id);
    return h(
      "tr",
      { "data-source-id": s.id },
      h("th", { scope: "row" }, h("strong", {}, s.name), h("div", { class: "muted" }, s.address), h("div", { class: "small muted" }, KIND_LABELS[s.kind] ?? s.kind)),
      h(
        "td",
        {},
        h("div", {}, s.role === "company" ? `Company mailbox: ${companyNames.get(s.companyId) ?? s.companyId}` : "System mailbox"),
        h("div", { class: "small muted" }, scheduleLabel(s.schedule)),
      ),
      h(
        "td",
        {},
        badge(s.status),
        h("div", { class: "muted small" }, countsLabel(s.messageCounts)),
        sub ? h("div", { class: "small subscription" }, "Subscription ", badge(sub.status), " expires ", when(sub.expiresAt)) : null,
      ),
      h("td", {}, when(s.lastProcessedAt)),
      s.lastError
        ? h("td", {}, h("div", { class: "error-text" }, s.lastError), s.lastErrorAt ? h("div", { class: "small muted" }, when(s.lastErrorAt)) : null)
        : h("td", {}, h("span", { class: "muted" }, "none")),
      h("td", { class: "actions" }, h("div", { class: "buttons" }, sourceActions(s, result, actions)), result),
    );
  });
  return table(headers, rows, [
    "No email sources yet. ",
    h("a", { href: "#/sources/new/imap" }, "Add Email Source"),
    " to connect Gmail, Microsoft 365 or an IMAP mailbox.",
  ]);
}

/**
 * The row's actions: Authorize in view while the source waits for it, the rest in a menu. An API
 * source has no mailbox to read, and a connection to test only when it sends through SMTP; an
 * SMTP-listener source has no mailbox either, and its test says whether the listener is on; a
 * mail-service source's test answers the URL to give the service.
 */
function sourceActions(s, result, actions) {
  const oauth = s.kind === "gmail" || s.kind === "graph";
  const authorized = s.gmail?.authorized || s.graph?.authorized;
  const authorize = (attrs) =>
    button(authorized || s.status === "needs_reauth" ? "Re-authorize" : "Authorize", (e) => actions.authorize(e.target, s, result), attrs);
  const mailbox = s.kind !== "api" && s.kind !== "smtp" && s.kind !== "inbound-webhook";
  const waitsForAuthorization = oauth && (!authorized || s.status === "needs_reauth");
  return [
    waitsForAuthorization ? authorize({ class: "primary" }) : null,
    menu("Actions", [
      mailbox || s.smtp || s.kind === "smtp" || s.kind === "inbound-webhook" ? button("Test Connection", (e) => run(e.target, result, () => api.post(`/sources/${s.id}/test`), testOutcome), { "aria-label": `Test Connection of ${s.name}` }) : null,
      mailbox
        ? button("Process Now", (e) => run(e.target, result, () => api.post(`/sources/${s.id}/process`), () => ["ok", "Processing started: new mail is being fetched now."]), {
            "aria-label": `Process Now ${s.name}`,
          })
        : null,
      oauth && !waitsForAuthorization ? authorize({}) : null,
      h("a", { class: "button", href: `#/sources/edit/${s.id}`, "aria-label": `Edit ${s.name}` }, "Edit"),
      button("Delete", (e) => remove(e.target, s, result, actions.refresh), { class: "danger", "aria-label": `Delete ${s.name}` }),
    ], { "aria-label": `Actions for ${s.name}` }),
  ];
}

const testOutcome = (r) => [r.ok ? "ok" : "bad", testResultText(r)];

async function run(btn, result, call, describe) {
  btn.disabled = true;
  outcome(result, "info", "Working…");
  try {
    const [kind, text] = describe(await call());
    outcome(result, kind, text);
  } catch (err) {
    outcome(result, "bad", err.message);
  } finally {
    btn.disabled = false;
  }
}

async function remove(btn, source, result, refresh) {
  if (!confirm(`Delete the source "${source.name}" (${source.address})? Its mail is no longer read.`)) return;
  btn.disabled = true;
  try {
    await api.del(`/sources/${source.id}`);
    await refresh();
  } catch (err) {
    outcome(result, "bad", err.message);
    btn.disabled = false;
  }
}
