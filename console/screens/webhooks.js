// Webhooks: endpoints, a test event, secret rotation (the secret is shown once), and one
// endpoint's deliveries with every attempt and Redeliver.
import { api, listAll } from "../api.js";
import { badge, button, h, outcome, replace, table, when } from "../dom.js";
import { field, onSubmit, problemBox, value } from "../forms.js";

const EVENTS = ["ticket.created", "ticket.reply_received", "lead.created", "source.failed", "source.recovered", "source.needs_reauth", "subscription.renewal_failed"];
const POLL_MS = 3000;

export async function render(main, route) {
  return route.params[0] ? renderEndpoint(main, route.params[0]) : renderList(main);
}

/** The plaintext secret, shown once with the advice to store it now. */
function secretBox(secret, what) {
  const code = h("code", { class: "secret" }, secret);
  return h(
    "div",
    { class: "outcome warn", role: "status" },
    h("p", {}, `${what} Copy the signing secret now: it is not shown again.`),
    code,
    " ",
    button("Copy", () => navigator.clipboard?.writeText(secret).catch(() => undefined), { class: "small", "aria-label": "Copy the signing secret" }),
  );
}

const endpointStatus = (e) => (e.enabled ? badge("enabled") : [badge("disabled"), e.disabledReason ? h("div", { class: "small" }, e.disabledReason) : null]);

async function endpointActions(e, result, refresh) {
  return [
    button("Send test event", async (ev) => act(ev.target, result, async () => {
      await api.post(`/webhooks/${e.id}/test`);
      outcome(result, "ok", "A webhook.test event is on its way; see Deliveries.");
    }), { "aria-label": `Send test event to ${e.url}` }),
    button("Rotate secret", async (ev) => {
      if (!confirm("Rotate the signing secret? For 24 hours deliveries are signed with the old and the new one.")) return;
      await act(ev.target, result, async () => {
        const { secret } = await api.post(`/webhooks/${e.id}/rotate-secret`);
        replace(result, secretBox(secret, "New secret created; the old one stays valid for 24 hours."));
      });
    }),
    button(e.enabled ? "Disable" : "Enable", (ev) => act(ev.target, result, async () => {
      await api.patch(`/webhooks/${e.id}`, { enabled: !e.enabled });
      await refresh();
    })),
    button("Delete", (ev) => {
      if (confirm(`Delete the endpoint ${e.url}?`)) act(ev.target, result, async () => {
        await api.del(`/webhooks/${e.id}`);
        location.hash = "#/webhooks";
        await refresh();
      });
    }, { class: "danger" }),
  ];
}

async function act(btn, result, fn) {
  btn.disabled = true;
  try {
    await fn();
  } catch (err) {
    outcome(result, "bad", err.message);
  } finally {
    btn.disabled = false;
  }
}

async function renderList(main) {
  const list = h("div", {}, h("p", { class: "muted" }, "Loading endpoints…"));
  const created = h("div");
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "new-endpoint" },
    h("h2", { id: "new-endpoint" }, "New endpoint"),
    problemBox(),
    h("div", { class: "row" }, field({ label: "URL", name: "url", type: "url", required: true, help: "Where mailgate POSTs signed events (Standard Webhooks)." }), field({ label: "Description", name: "description" })),
    h(
      "fieldset",
      {},
      h("legend", {}, "Events (none checked: all of them)"),
      h("div", { class: "checks" }, EVENTS.map((ev) => field({ label: ev, name: "events", type: "checkbox", value: false, "data-event": ev }))),
    ),
    h("button", { type: "submit", class: "primary" }, "Add endpoint"),
    created,
  );
  const refresh = async () => {
    const endpoints = await listAll("/webhooks");
    const rows = await Promise.all(
      endpoints.map(async (e) => {
        const result = h("div", { class: "outcome" });
        return h(
          "tr",
          {},
          h("th", { scope: "row" }, h("a", { href: `#/webhooks/${e.id}` }, e.url), e.description ? h("div", { class: "muted small" }, e.description) : null),
          h("td", {}, e.events ? e.events.join(", ") : "all events"),
          h("td", {}, endpointStatus(e), e.failingSince ? h("div", { class: "small" }, "failing since ", when(e.failingSince)) : null),
          h("td", { class: "actions" }, h("a", { class: "button", href: `#/webhooks/${e.id}` }, "Deliveries"), await endpointActions(e, result, refresh), result),
        );
      }),
    );
    replace(list, table(["Endpoint", "Events", "Status", "Actions"], rows, "No webhook endpoints yet. Add one below to receive ticket.created and the other events."));
  };
  onSubmit(form, async () => {
    const events = [...form.querySelectorAll("input[data-event]:checked")].map((i) => i.dataset.event);
    const body = { url: value(form, "url"), description: value(form, "description") || undefined, events: events.length ? events : undefined };
    const endpoint = await api.post("/webhooks", body);
    form.reset();
    replace(created, secretBox(endpoint.secret, `Endpoint ${endpoint.url} added.`));
    await refresh();
  });
  replace(main, h("h1", {}, "Webhooks"), h("p", { class: "lead" }, "Signed events for your PSA or helpdesk: retried with backoff until the endpoint answers 2xx."), list, form);
  await refresh();
}

async function renderEndpoint(main, id) {
  const result = h("div", { class: "outcome" });
  const list = h("div", {}, h("p", { class: "muted" }, "Loading deliveries…"));
  const headActions = h("div", { class: "actions" });
  let shown = "";
  const refresh = async (force = false) => {
    const [endpoint, deliveries] = await Promise.all([api.get(`/webhooks/${id}`), listAll(`/webhooks/${id}/deliveries`, 200)]);
    main.querySelector("h1").textContent = endpoint.url;
    const snapshot = JSON.stringify([endpoint, deliveries]);
    if (!force && (snapshot === shown || list.contains(document.activeElement) || headActions.contains(document.activeElement))) return;
    shown = snapshot;
    replace(headActions, endpointStatus(endpoint), await endpointActions(endpoint, result, () => refresh(true)));
    replace(list, deliveryTable(deliveries, result, () => refresh(true)));
  };
  replace(main, h("p", {}, h("a", { href: "#/webhooks" }, "← Webhooks")), h("h1", { class: "url" }, "Endpoint"), headActions, result, h("h2", {}, "Deliveries"), list);
  await refresh(true);
  const poll = setInterval(() => refresh().catch(() => undefined), POLL_MS);
  return () => clearInterval(poll);
}

function attemptLog(d) {
  if (d.attemptLog.length === 0) return h("span", { class: "muted" }, "no attempt yet");
  return h(
    "details",
    {},
    h("summary", {}, `${d.attempts} attempt${d.attempts === 1 ? "" : "s"}`),
    h(
      "ol",
      { class: "attempts" },
      // The API lists the newest first; the log reads in the order they happened.
      [...d.attemptLog].reverse().map((a) =>
        h("li", {}, when(a.at), " — ", a.statusCode ? `HTTP ${a.statusCode}` : "no answer", ` in ${a.durationMs} ms`, a.error ? h("div", { class: "error-text" }, a.error) : null, a.responseBody ? h("pre", { class: "small" }, a.responseBody) : null),
      ),
    ),
  );
}

function deliveryTable(deliveries, notice, refresh) {
  const rows = deliveries.map((d) => {
    return h(
      "tr",
      { "data-delivery-id": d.id },
      h("th", { scope: "row" }, d.eventType),
      h("td", {}, badge(d.status), d.nextAttemptAt ? h("div", { class: "small" }, "next ", when(d.nextAttemptAt)) : null),
      h("td", {}, d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : "", d.lastError ? h("div", { class: "error-text small" }, d.lastError) : null),
      h("td", {}, attemptLog(d)),
      h("td", {}, when(d.createdAt)),
      h(
        "td",
        { class: "actions" },
        button("Redeliver", (ev) => act(ev.target, notice, async () => {
          await api.post(`/webhook-deliveries/${d.id}/redeliver`);
          outcome(notice, "ok", `The ${d.eventType} delivery is queued again.`);
          setTimeout(refresh, 1000);
        }), { "aria-label": `Redeliver ${d.eventType}` }),
      ),
    );
  });
  return table(["Event", "Status", "Last answer", "Attempts", "Created", ""], rows, "No deliveries yet. Send a test event to see one.");
}
