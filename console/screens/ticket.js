// One ticket: its messages in the order they came and went (incoming mail, and replies and
// acknowledgements mailgate sent with their sending status), each with its attachments and raw
// message; a reply box; and the webhook deliveries of the ticket's events.
import { api, listAll } from "../api.js";
import { badge, button, h, outcome, replace, table, when } from "../dom.js";
import { downloadLink } from "../downloads.js";
import { field, lines, onSubmit, problemBox, value } from "../forms.js";

const POLL_MS = 2000;
// Outgoing mail still on its way, and deliveries still being tried: the page watches them.
const MOVING = new Set(["queued", "sending", "pending"]);

export async function render(main, route) {
  const id = route.params[0];
  let ticket;
  try {
    ticket = await api.get(`/tickets/${encodeURIComponent(id)}`);
  } catch (err) {
    return replace(main, h("h1", {}, "Ticket"), h("p", { class: "problem", role: "alert" }, err.message), h("a", { href: "#/tickets" }, "Back to the tickets"));
  }
  const names = await nameTicketParties(ticket);
  const messages = h("div", { "aria-live": "polite" });
  const deliveries = h("div", {});
  const raw = h("dialog", { class: "raw", "aria-labelledby": "raw-title" });
  replace(
    main,
    h("div", { class: "head" }, h("h1", {}, `Ticket #${ticket.number}: ${ticket.subject || "(no subject)"}`), h("a", { class: "button", href: "#/tickets" }, "All tickets")),
    facts(ticket, names),
    h("h2", {}, "Messages"),
    messages,
    replyForm(ticket, () => refresh(true)),
    h("h2", {}, "Webhook deliveries"),
    h("p", { class: "muted small" }, "Each event about this ticket, to each endpoint that subscribes to it."),
    deliveries,
    raw,
  );

  let shown = "";
  let timer = null;
  const refresh = async (force = false) => {
    const [fresh, outbound, sent] = await Promise.all([
      api.get(`/tickets/${ticket.id}`),
      listAll(`/outbound-messages?ticketId=${ticket.id}`),
      listAll(`/tickets/${ticket.id}/deliveries`),
    ]);
    const snapshot = JSON.stringify([fresh.messages, outbound, sent]);
    // Left alone while someone works inside it (a raw message open, a retry pressed).
    if (force || (snapshot !== shown && !raw.open && !messages.contains(document.activeElement))) {
      shown = snapshot;
      const outboundById = new Map(outbound.map((o) => [o.id, o]));
      replace(messages, fresh.messages.length ? fresh.messages.map((m) => messageCard(m, outboundById.get(m.outboundMessageId), { viewRaw, refresh })) : h("p", { class: "empty" }, "No messages."));
      replace(deliveries, deliveryTable(sent));
    }
    const moving = outbound.some((o) => MOVING.has(o.status)) || sent.some((d) => MOVING.has(d.status));
    clearTimeout(timer);
    timer = moving ? setTimeout(() => refresh().catch(() => undefined), POLL_MS) : null;
  };
  const viewRaw = async (path, title) => {
    const text = await api.text(path).catch((err) => err.message);
    replace(
      raw,
      h("div", { class: "head" }, h("h2", { id: "raw-title" }, title), h("div", { class: "buttons" }, downloadLink(path, `${path.split("/")[2]}.eml`, "Download .eml", { class: "button" }), button("Close", () => raw.close()))),
      h("pre", { tabindex: "0" }, text),
    );
    raw.showModal();
  };
  await refresh(true);
  return () => clearTimeout(timer);
}

/** Company, contact and source by name; a party that is gone (deleted meanwhile) keeps its id. */
async function nameTicketParties(ticket) {
  const fetchName = (path, pick) => api.get(path).then(pick, () => null);
  const [company, contact, assignee, source] = await Promise.all([
    ticket.companyId ? fetchName(`/companies/${ticket.companyId}`, (c) => c.name) : null,
    ticket.contactId ? fetchName(`/contacts/${ticket.contactId}`, (c) => (c.name ? `${c.name} <${c.email}>` : c.email)) : null,
    ticket.assigneeId ? fetchName(`/techs/${ticket.assigneeId}`, (t) => t.name) : null,
    ticket.sourceId ? fetchName(`/sources/${ticket.sourceId}`, (s) => `${s.name} (${s.address})`) : null,
  ]);
  return { company, contact, assignee, source };
}

function facts(ticket, names) {
  const row = (label, content) => [h("dt", {}, label), h("dd", {}, content)];
  return h(
    "dl",
    { class: "card facts" },
    row("Status", badge(ticket.status)),
    row("Priority", ticket.priority),
    row("Job type", ticket.jobType),
    row("Company", ticket.companyId ? h("a", { href: `#/companies/${ticket.companyId}` }, names.company ?? ticket.companyId) : h("span", { class: "muted" }, ticket.unmapped ? "none (unmapped domain)" : "none")),
    row("Contact", names.contact ?? h("span", { class: "muted" }, "none")),
    row("Assignee", names.assignee ?? h("span", { class: "muted" }, "nobody")),
    row("Source", names.source ?? h("span", { class: "muted" }, "none")),
    row("Created", when(ticket.createdAt)),
  );
}

const mailbox = (a) => (typeof a === "string" ? a : a?.name ? `${a.name} <${a.address}>` : a?.address ?? "");
const mailboxes = (list) => (Array.isArray(list) ? list.map(mailbox).join(", ") : "");
const size = (n) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** The message's text; an HTML-only message is shown as its text (parsed inertly, never rendered). */
function bodyText(m) {
  if (m.text) return m.text;
  if (m.html) return new DOMParser().parseFromString(m.html, "text/html").body.textContent.trim();
  return "";
}

function messageCard(m, sent, ctx) {
  const outbound = m.direction === "outbound";
  const title = m.subject || "(no subject)";
  const rawPath = outbound ? (m.outboundMessageId ? `/outbound-messages/${m.outboundMessageId}/raw` : null) : m.inboundMessageId ? `/inbound-messages/${m.inboundMessageId}/raw` : null;
  const result = h("div", { class: "outcome" });
  return h(
    "article",
    { class: `card message ${outbound ? "outbound" : "inbound"}`, "data-message-id": m.id, "aria-label": `${outbound ? "Sent" : "Received"}: ${title}` },
    h(
      "div",
      { class: "message-head" },
      h("div", {}, h("strong", {}, m.fromName ? `${m.fromName} <${m.from}>` : m.from), " ", h("span", { class: "badge info" }, outbound ? `outgoing ${m.kind.replaceAll("_", " ")}` : `incoming ${m.kind.replaceAll("_", " ")}`)),
      when(m.receivedAt),
    ),
    h("div", { class: "small muted" }, `To: ${mailboxes(m.to) || "—"}`, mailboxes(m.cc) ? ` · Cc: ${mailboxes(m.cc)}` : ""),
    h("h3", {}, title),
    h("pre", { class: "message-body", tabindex: "0" }, bodyText(m)),
    m.attachments.length
      ? h("ul", { class: "files", "aria-label": "Attachments" }, m.attachments.map((a) => h("li", {}, downloadLink(`/attachments/${a.id}/content`, a.filename, `${a.filename} (${size(a.size)})`, { "aria-label": `Download ${a.filename}` }))))
      : null,
    m.skippedAttachments.length
      ? h("ul", { class: "small muted" }, m.skippedAttachments.map((s) => h("li", {}, `Not saved: ${s.filename} — ${s.reason}`)))
      : null,
    h(
      "div",
      { class: "actions" },
      rawPath
        ? h("a", { href: `/api${rawPath}`, onclick: (e) => (e.preventDefault(), ctx.viewRaw(rawPath, title)), "aria-label": `Raw message: ${title}` }, "Raw message")
        : h("span", { class: "muted small" }, "raw message not kept"),
      outbound && sent ? sendingStatus(sent, result, ctx.refresh) : null,
    ),
    result,
  );
}

function sendingStatus(sent, result, refresh) {
  const retryable = sent.status === "failed" || sent.status === "waiting_for_authorization";
  return h(
    "span",
    { class: "outbound-status" },
    "Sending: ",
    badge(sent.status),
    sent.sentAt ? [" ", when(sent.sentAt)] : null,
    sent.lastError ? h("span", { class: "error-text small" }, ` ${sent.lastError}`) : null,
    retryable
      ? button("Retry", async (e) => {
          e.target.disabled = true;
          try {
            await api.post(`/outbound-messages/${sent.id}/retry`);
            outcome(result, "ok", "Queued to be sent again.");
            await refresh(true);
          } catch (err) {
            outcome(result, "bad", err.message);
            e.target.disabled = false;
          }
        }, { class: "small" })
      : null,
  );
}

function replyForm(ticket, refresh) {
  // One key per reply: pressing Send again after a lost answer returns the same message, not a second one.
  let key = crypto.randomUUID();
  const result = h("div", { class: "outcome" });
  const form = h(
    "form",
    { class: "card reply", "aria-labelledby": "reply-title" },
    h("h2", { id: "reply-title" }, "Reply"),
    problemBox(),
    field({ label: "Your reply", name: "text", type: "textarea", rows: 6, required: true, help: "Sent from the ticket's source to its contact, in the ticket's thread." }),
    field({ label: "Cc", name: "cc", help: "Addresses separated by commas (optional)." }),
    h("button", { type: "submit", class: "primary" }, "Send reply"),
    result,
  );
  onSubmit(form, async () => {
    const cc = lines(value(form, "cc"));
    const sent = await api.post(`/tickets/${ticket.id}/replies`, { text: form.elements.namedItem("text").value, ...(cc.length ? { cc } : {}) }, { "Idempotency-Key": key });
    key = crypto.randomUUID();
    form.reset();
    outcome(result, "ok", `Reply queued to ${sent.to.join(", ")}; its status shows on the message above.`);
    await refresh();
  });
  return form;
}

function deliveryTable(deliveries) {
  const rows = deliveries.map((d) =>
    h(
      "tr",
      {},
      h("td", {}, h("code", {}, d.eventType)),
      h("th", { scope: "row" }, h("a", { href: `#/webhooks/${d.endpointId}` }, d.endpointUrl)),
      h("td", {}, badge(d.status)),
      h("td", {}, String(d.attempts)),
      h("td", { class: d.lastError ? "error-text" : "" }, d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : "", d.lastError ? ` ${d.lastError}` : ""),
      h("td", {}, when(d.createdAt)),
      h("td", {}, d.completedAt ? when(d.completedAt) : d.nextAttemptAt ? ["next ", when(d.nextAttemptAt)] : "—"),
    ),
  );
  return h("div", { class: "deliveries" }, table(["Event", "Endpoint", "Status", "Attempts", "Last answer", "Created", "Done"], rows, "No webhook deliveries: no endpoint subscribes to this ticket's events."));
}
