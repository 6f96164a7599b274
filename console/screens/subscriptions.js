// Subscriptions: every Gmail watch and Graph subscription with its expiry, and Renew (all or one).
import { api, ApiError, listAll } from "../api.js";
import { badge, button, h, outcome, replace, table, when } from "../dom.js";

export async function render(main) {
  const list = h("div", {}, h("p", { class: "muted" }, "Loading subscriptions…"));
  const result = h("div", { class: "outcome" });
  const renewAll = button("Renew all now", (e) => renew(e.target, ""), { class: "primary" });
  replace(
    main,
    h("div", { class: "head" }, h("h1", {}, "Subscriptions"), renewAll),
    h("p", { class: "lead" }, "Gmail watches and Microsoft Graph subscriptions keep tickets real time. mailgate renews them on its own; Renew does it now."),
    result,
    list,
  );
  const sources = await listAll("/sources");
  const sourceNames = new Map(sources.map((s) => [s.id, `${s.name} (${s.address})`]));

  const refresh = async () => {
    let items;
    try {
      ({ items } = await api.get("/subscriptions"));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      renewAll.hidden = true;
      return replace(list, h("p", { class: "empty" }, "This mailgate server has no subscriptions API yet."));
    }
    const rows = items.map((s) =>
      h(
        "tr",
        {},
        h("th", { scope: "row" }, sourceNames.get(s.sourceId) ?? s.sourceId),
        h("td", {}, s.provider === "graph" ? "Microsoft 365" : "Gmail"),
        h("td", {}, badge(s.status), s.lastError ? h("div", { class: "error-text small" }, s.lastError) : null),
        h("td", {}, when(s.expiresAt)),
        h("td", {}, when(s.lastRenewedAt)),
        h("td", { class: "small" }, s.externalId ?? "—"),
        h("td", {}, button("Renew", (e) => renew(e.target, s.sourceId), { "aria-label": `Renew the subscription of ${sourceNames.get(s.sourceId) ?? s.sourceId}` })),
      ),
    );
    replace(list, table(["Source", "Provider", "Status", "Expires", "Last renewed", "Provider id", ""], rows, "No subscriptions. Gmail and Microsoft 365 sources in continuous or scheduled mode get one when they are authorized."));
  };

  const renew = async (btn, sourceId) => {
    btn.disabled = true;
    outcome(result, "info", "Renewing…");
    try {
      const { results } = await api.post(`/subscriptions/renew${sourceId ? `?sourceId=${sourceId}` : ""}`);
      const failed = results.filter((r) => !r.ok);
      outcome(
        result,
        failed.length ? "bad" : "ok",
        results.length === 0 ? "Nothing to renew." : `${results.length - failed.length} of ${results.length} renewed.`,
        failed.map((r) => h("div", {}, typeof r.error === "string" ? r.error : r.error?.message ?? "failed")),
      );
      await refresh();
    } catch (err) {
      outcome(result, "bad", err.message);
    } finally {
      btn.disabled = false;
    }
  };
  await refresh();
}
