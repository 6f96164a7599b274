// Inbox review ("Review unmatched emails weekly"): inbound messages by status with their reason or
// error, the raw message, Reprocess, and "map this sender's domain to a company" (with reroute).
import { api, listAll } from "../api.js";
import { badge, button, h, outcome, replace, table, when } from "../dom.js";
import { domainConflict, isDomainConflict } from "./domain-conflict.js";

const FILTERS = [
  ["unrouted", "Unrouted"],
  ["failed", "Failed"],
  ["ignored", "Ignored"],
  ["duplicate", "Duplicates"],
  ["received", "Waiting"],
  ["all", "All messages"],
];
const REPROCESSABLE = new Set(["failed", "unrouted", "ignored", "duplicate"]);
const POLL_MS = 3000;

export async function render(main, route) {
  const status = FILTERS.some(([s]) => s === route.params[0]) ? route.params[0] : "unrouted";
  const list = h("div", {}, h("p", { class: "muted" }, "Loading messages…"));
  const notice = h("div", { class: "outcome" });
  const raw = h("dialog", { class: "raw", "aria-labelledby": "raw-title" });
  replace(
    main,
    h("div", { class: "head" }, h("h1", {}, "Inbox review"), button("Refresh", () => refresh(true))),
    h("p", { class: "lead" }, "What each email became and why. Unrouted mail waits for its sender's domain to be mapped to a company; failed mail keeps its error and can be reprocessed."),
    h("nav", { class: "tabs", "aria-label": "Message status" }, FILTERS.map(([s, label]) => h("a", { href: `#/inbox/${s}`, "aria-current": s === status ? "page" : null }, label))),
    notice,
    list,
    raw,
  );
  const [companies, sources] = await Promise.all([listAll("/companies"), listAll("/sources")]);
  const sourceNames = new Map(sources.map((s) => [s.id, s.name]));
  let shown = "";
  let timers = [];

  // Re-rendered only when something changed and nobody is working inside the list.
  const refresh = async (force = false) => {
    const messages = await listAll(status === "all" ? "/inbound-messages" : `/inbound-messages?status=${status}`, 200);
    const tickets = new Map(messages.some((m) => m.ticketId) ? (await listAll("/tickets", 500)).map((t) => [t.id, t]) : []);
    const snapshot = JSON.stringify(messages);
    if (!force && (snapshot === shown || list.contains(document.activeElement))) return;
    shown = snapshot;
    replace(list, messageTable(messages, { tickets, companies, sourceNames, viewRaw, after }));
  };
  const soon = () => {
    for (const ms of [500, 1500, 3000]) timers.push(setTimeout(() => refresh(true).catch(() => undefined), ms));
  };
  // The row is re-rendered as the message moves on, so the outcome is told above the list.
  const after = async (text) => {
    outcome(notice, "ok", text);
    soon();
  };
  const viewRaw = async (m) => {
    const text = await api.text(`/inbound-messages/${m.id}/raw`).catch((err) => err.message);
    replace(
      raw,
      h("div", { class: "head" }, h("h2", { id: "raw-title" }, m.subject ?? "(no subject)"), button("Close", () => raw.close())),
      h("pre", { tabindex: "0" }, text),
    );
    raw.showModal();
  };

  await refresh(true);
  const poll = setInterval(() => refresh().catch(() => undefined), POLL_MS);
  return () => {
    clearInterval(poll);
    timers.forEach(clearTimeout);
    timers = [];
  };
}

const senderDomain = (from) => (from?.includes("@") ? from.split("@").pop().replace(/>$/, "").toLowerCase() : null);

function messageTable(messages, ctx) {
  const rows = messages.map((m) => {
    const result = h("div", { class: "outcome" });
    const ticket = m.ticketId ? ctx.tickets.get(m.ticketId) : null;
    return h(
      "tr",
      { "data-message-id": m.id },
      h("td", {}, when(m.receivedAt)),
      h("td", {}, m.fromAddress ?? h("span", { class: "muted" }, "unknown")),
      h("th", { scope: "row" }, m.subject ?? h("span", { class: "muted" }, "(no subject)")),
      h("td", {}, ctx.sourceNames.get(m.sourceId) ?? "—"),
      h(
        "td",
        {},
        badge(m.status),
        ticket ? h("div", { class: "small" }, `Ticket #${ticket.number}`, ticket.subject ? `: ${ticket.subject}` : "") : null,
      ),
      h("td", { class: m.error ? "error-text" : "" }, m.error ?? m.reason ?? ""),
      h("td", { class: "actions" }, actionsFor(m, ctx, result), result),
    );
  });
  return table(["Received", "From", "Subject", "Source", "Status", "Reason or error", "Actions"], rows, "No messages with this status. Nothing to review.");
}

function actionsFor(m, ctx, result) {
  const label = m.subject ?? m.fromAddress ?? "message";
  const items = [];
  if (m.hasRaw) items.push(button("View raw", () => ctx.viewRaw(m), { "aria-label": `View raw message: ${label}` }));
  if (REPROCESSABLE.has(m.status) && m.hasRaw) {
    items.push(
      button("Reprocess", async (e) => {
        e.target.disabled = true;
        try {
          await api.post(`/inbound-messages/${m.id}/reprocess`);
          await ctx.after(`Queued for processing again: ${label}.`);
        } catch (err) {
          outcome(result, "bad", err.message);
          e.target.disabled = false;
        }
      }, { "aria-label": `Reprocess: ${label}` }),
    );
  }
  const domain = senderDomain(m.fromAddress);
  if (m.status === "unrouted" && domain) items.push(mapDomainForm(domain, ctx, result));
  return items;
}

function mapDomainForm(domain, ctx, result) {
  const id = `map-${Math.random().toString(36).slice(2)}`;
  const select = h("select", { id, name: "companyId", required: true }, h("option", { value: "" }, "Choose a company"), ctx.companies.map((c) => h("option", { value: c.id }, c.name)));
  const form = h(
    "form",
    { class: "inline" },
    h("label", { for: id }, `Map ${domain} to`),
    select,
    h("button", { type: "submit" }, "Map domain"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!select.value) return outcome(result, "bad", "Choose the company this domain belongs to.");
    const submit = form.querySelector("button");
    submit.disabled = true;
    try {
      const company = await api.post(`/companies/${select.value}/domains`, { domain, reroute: true });
      const n = company.rerouted?.messages ?? 0;
      await ctx.after(`${domain} now belongs to ${company.name}; ${n} waiting message${n === 1 ? "" : "s"} rerouted.`);
    } catch (err) {
      const failed = (e) => outcome(result, "bad", e.message);
      if (isDomainConflict(err)) outcome(result, "bad", domainConflict(err, (text) => outcome(result, "ok", `${text} Map ${domain} again.`), failed));
      else failed(err);
      submit.disabled = false;
    }
  });
  if (ctx.companies.length === 0) return h("p", { class: "small" }, `To route ${domain}, `, h("a", { href: "#/companies" }, "create its company"), " first.");
  return form;
}
