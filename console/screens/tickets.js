// Tickets: the tickets mailgate made, newest first, filtered by company, source, status and the
// days they were created, searched by subject or sender, a page at a time (the API's cursor).
// The filters live in the address (#/tickets?q=vpn&status=open), so a filtered list can be
// reloaded, shared and gone back to. A ticket opens on its own page (ticket.js).
import { api, listAll } from "../api.js";
import { badge, h, replace, table, when } from "../dom.js";
import { field, problemBox, showProblem } from "../forms.js";

const PAGE_SIZES = ["10", "25", "50", "100"];
const DEFAULT_PAGE_SIZE = "25";
const FILTERS = ["q", "companyId", "sourceId", "status", "from", "to", "limit"];

export async function render(main, route) {
  if (route.params[0]) return (await import("./ticket.js")).render(main, route);
  const asked = route.query;
  const [companies, sources] = await Promise.all([listAll("/companies"), listAll("/sources")]);
  const names = { companies: new Map(companies.map((c) => [c.id, c.name])), sources: new Map(sources.map((s) => [s.id, s.name])) };
  const list = h("div", { "aria-live": "polite", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading tickets…"));
  const form = filterForm(asked, companies, sources);
  replace(
    main,
    h("h1", {}, "Tickets"),
    h("p", { class: "lead" }, "Every ticket mailgate created from email, newest first. Search finds words in the subject or in a sender's address or name."),
    form,
    list,
  );
  try {
    const page = await api.get(`/tickets?${apiQuery(asked)}`);
    replace(list, ticketTable(page.items, names), pager(asked, page));
  } catch (err) {
    replace(list);
    showProblem(form, err);
  }
  // Which filters the list shows, once it shows them (the address may already name the next ones).
  list.setAttribute("data-query", asked.toString());
  list.setAttribute("aria-busy", "false");
}

function filterForm(asked, companies, sources) {
  const form = h(
    "form",
    { class: "card filters-card", role: "search", "aria-label": "Find tickets" },
    problemBox(),
    h(
      "div",
      { class: "filter-form" },
      field({ label: "Search", name: "q", type: "search", value: asked.get("q"), placeholder: "Subject or sender" }),
      field({ label: "Company", name: "companyId", options: [["", "All companies"], ...companies.map((c) => [c.id, c.name])], value: asked.get("companyId") ?? "" }),
      field({ label: "Source", name: "sourceId", options: [["", "All sources"], ...sources.map((s) => [s.id, s.name])], value: asked.get("sourceId") ?? "" }),
      field({ label: "Status", name: "status", options: [["", "Open and closed"], ["open", "Open"], ["closed", "Closed"]], value: asked.get("status") ?? "" }),
      field({ label: "Created from", name: "from", type: "date", value: asked.get("from") }),
      field({ label: "Created to", name: "to", type: "date", value: asked.get("to") }),
      field({ label: "Per page", name: "limit", options: PAGE_SIZES.map((n) => [n, n]), value: asked.get("limit") ?? DEFAULT_PAGE_SIZE }),
      h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Find"), h("a", { class: "button", href: "#/tickets" }, "Clear")),
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const chosen = new URLSearchParams();
    for (const name of FILTERS) {
      const value = form.elements.namedItem(name).value.trim();
      if (value && !(name === "limit" && value === DEFAULT_PAGE_SIZE)) chosen.set(name, value);
    }
    const target = `#/tickets${chosen.size ? `?${chosen}` : ""}`;
    // The same filters again (Find pressed twice) still reload the list.
    if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = target;
  });
  return form;
}

/** Days are the person's own: from the start of the first to the end of the last (the API's `to` is exclusive). */
function apiQuery(asked) {
  const query = new URLSearchParams();
  for (const name of ["q", "companyId", "sourceId", "status", "cursor"]) if (asked.get(name)) query.set(name, asked.get(name));
  query.set("limit", asked.get("limit") || DEFAULT_PAGE_SIZE);
  const day = (text, offset) => {
    const d = new Date(`${text}T00:00:00`);
    if (Number.isNaN(d.getTime())) return text; // the API says what is wrong with it
    d.setDate(d.getDate() + offset);
    return d.toISOString();
  };
  if (asked.get("from")) query.set("from", day(asked.get("from"), 0));
  if (asked.get("to")) query.set("to", day(asked.get("to"), 1));
  return query;
}

const sender = (t) => (t.from ? (t.fromName ? `${t.fromName} <${t.from}>` : t.from) : h("span", { class: "muted" }, "no mail"));

function ticketTable(tickets, names) {
  const rows = tickets.map((t) =>
    h(
      "tr",
      { "data-ticket-id": t.id },
      h("td", {}, `#${t.number}`),
      h("th", { scope: "row" }, h("a", { href: `#/tickets/${t.id}` }, t.subject || "(no subject)")),
      h("td", {}, sender(t)),
      h("td", {}, t.companyId ? names.companies.get(t.companyId) ?? "—" : h("span", { class: "muted" }, "none"), t.unmapped ? h("div", { class: "small muted" }, "unmapped domain") : null),
      h("td", {}, t.sourceId ? names.sources.get(t.sourceId) ?? "—" : "—"),
      h("td", {}, badge(t.status)),
      h("td", {}, when(t.createdAt)),
    ),
  );
  return table(["Number", "Subject", "From", "Company", "Source", "Status", "Created"], rows, "No tickets match. Change the filters or clear them.");
}

function pager(asked, page) {
  const at = (cursor) => {
    const q = new URLSearchParams(asked);
    if (cursor) q.set("cursor", cursor);
    else q.delete("cursor");
    return `#/tickets${q.size ? `?${q}` : ""}`;
  };
  const links = [
    asked.get("cursor") ? h("a", { href: at(null) }, "Newest tickets") : null,
    page.nextCursor ? h("a", { href: at(page.nextCursor), class: "button" }, "Older tickets") : null,
  ].filter(Boolean);
  return links.length ? h("nav", { class: "pager", "aria-label": "Pages" }, links) : null;
}
