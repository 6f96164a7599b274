// Email sources ("Settings → Email Configuration"): every mailbox with its connection status, and
// Test Connection, Process Now and Authorize / Re-authorize with their result shown in the row.
import { api, ApiError, listAll } from "../api.js";
import { badge, button, h, outcome, replace, table, when } from "../dom.js";
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
  const headers = ["Source", "Kind", "Role", "Schedule", "Status", "Last processed", "Last error", "Subscription expires", "Actions"];
  const rows = sources.map((s) => {
    const result = h("div", { class: "outcome" });
    const sub = subscriptions.get(s.id);
    const authorized = s.gmail?.authorized || s.graph?.authorized;
    return h(
      "tr",
      { "data-source-id": s.id },
      h("th", { scope: "row" }, h("strong", {}, s.name), h("br"), h("span", { class: "muted" }, s.address)),
      h("td", {}, KIND_LABELS[s.kind] ?? s.kind),
      h("td", {}, s.role === "company" ? `Company mailbox: ${companyNames.get(s.companyId) ?? s.companyId}` : "System mailbox"),
      h("td", {}, scheduleLabel(s.schedule)),
      h("td", {}, badge(s.status), h("div", { class: "muted small" }, countsLabel(s.messageCounts))),
      h("td", {}, when(s.lastProcessedAt)),
      h("td", { class: "error-text" }, s.lastError ?? h("span", { class: "muted" }, "none"), s.lastErrorAt ? h("div", { class: "small" }, when(s.lastErrorAt)) : null),
      h("td", {}, sub ? [when(sub.expiresAt), h("div", { class: "small" }, badge(sub.status))] : h("span", { class: "muted" }, "—")),
      h(
        "td",
        { class: "actions" },
        button("Test Connection", (e) => run(e.target, result, () => api.post(`/sources/${s.id}/test`), testOutcome), { "aria-label": `Test Connection of ${s.name}` }),
        button("Process Now", (e) => run(e.target, result, () => api.post(`/sources/${s.id}/process`), () => ["ok", "Processing started: new mail is being fetched now."]), {
          "aria-label": `Process Now ${s.name}`,
        }),
        s.kind === "gmail" || s.kind === "graph"
          ? button(authorized || s.status === "needs_reauth" ? "Re-authorize" : "Authorize", (e) => actions.authorize(e.target, s, result), {
              class: s.status === "needs_reauth" || !authorized ? "primary" : "",
            })
          : null,
        h("a", { class: "button", href: `#/sources/edit/${s.id}`, "aria-label": `Edit ${s.name}` }, "Edit"),
        button("Delete", (e) => remove(e.target, s, result, actions.refresh), { class: "danger", "aria-label": `Delete ${s.name}` }),
        result,
      ),
    );
  });
  return table(headers, rows, [
    "No email sources yet. ",
    h("a", { href: "#/sources/new/imap" }, "Add Email Source"),
    " to connect Gmail, Microsoft 365 or an IMAP mailbox.",
  ]);
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
