// Error log ("Admin → System → Error Log"): failed messages, deliveries, renewals and connections,
// newest first, filtered by kind and source, a page at a time.
import { api, listAll } from "../api.js";
import { button, h, replace, table, when } from "../dom.js";
import { field } from "../forms.js";

const KINDS = ["message_failed", "message_too_large", "connection_failed", "post_process_failed", "delivery_failed", "renewal_failed", "retention_failed"];
const PAGE = 50;

export async function render(main) {
  const sources = await listAll("/sources");
  const sourceNames = new Map(sources.map((s) => [s.id, s.name]));
  const filters = h(
    "form",
    { class: "row filters", "aria-label": "Filter the error log" },
    field({ label: "Kind", name: "kind", options: [["", "All kinds"], ...KINDS.map((k) => [k, k.replaceAll("_", " ")])] }),
    field({ label: "Source", name: "sourceId", options: [["", "All sources"], ...sources.map((s) => [s.id, `${s.name} (${s.address})`])] }),
  );
  const list = h("div", {}, h("p", { class: "muted" }, "Loading the error log…"));
  const more = h("div");
  let entries = [];
  let latest = 0;

  const load = async (cursor) => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    for (const name of ["kind", "sourceId"]) if (filters.elements.namedItem(name).value) q.set(name, filters.elements.namedItem(name).value);
    if (cursor) q.set("cursor", cursor);
    const asked = ++latest;
    const page = await api.get(`/errors?${q}`);
    if (asked !== latest) return; // a newer filter answered first
    entries = cursor ? [...entries, ...page.items] : page.items;
    replace(list, entryTable(entries, sourceNames));
    replace(more, page.nextCursor ? button("Load older entries", () => load(page.nextCursor)) : null);
  };
  filters.addEventListener("change", () => load());
  filters.addEventListener("submit", (e) => e.preventDefault());
  replace(main, h("h1", {}, "Error log"), h("p", { class: "lead" }, "What failed, when and for which source. Failed messages can be reprocessed from Inbox review."), filters, list, more);
  await load();
}

function entryTable(entries, sourceNames) {
  const rows = entries.map((e) =>
    h(
      "tr",
      {},
      h("td", {}, when(e.at)),
      h("td", {}, e.kind.replaceAll("_", " ")),
      h("td", {}, e.sourceId ? sourceNames.get(e.sourceId) ?? e.sourceId : "—"),
      h("td", { class: "error-text" }, e.message, e.details ? h("details", {}, h("summary", {}, "Details"), h("pre", { class: "small" }, JSON.stringify(e.details, null, 2))) : null),
    ),
  );
  return table(["Time", "Kind", "Source", "Message"], rows, "No errors logged. Everything is working.");
}
