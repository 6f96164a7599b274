// Companies ("Customers → Company → Email Domains"): the list, a new company with its domains,
// and one company's name, default flag, domains (a conflict names the company that has it) and mailboxes.
import { api, listAll } from "../api.js";
import { badge, button, h, outcome, replace, table } from "../dom.js";
import { field, lines, onSubmit, problemBox, showProblem, value, checked } from "../forms.js";
import { domainConflict, isDomainConflict } from "./domain-conflict.js";
import { KIND_LABELS } from "./source-labels.js";

export async function render(main, route) {
  return route.params[0] ? renderCompany(main, route.params[0]) : renderList(main);
}

/** A domain another company has is said in words, with a link to that company and a button removing it there. */
function showConflict(form, err) {
  showProblem(form, err);
  if (!isDomainConflict(err)) return;
  const box = form.querySelector(".problem");
  const submit = form.querySelector("button[type=submit]");
  const removed = (text) => {
    box.hidden = true;
    outcome(form.querySelector(".outcome"), "ok", `${text} Click "${submit.textContent}" again to add it here.`);
    submit.focus();
  };
  replace(box, domainConflict(err, removed, (e) => showProblem(form, e)));
}

async function renderList(main) {
  const list = h("div", {}, h("p", { class: "muted" }, "Loading companies…"));
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "new-company" },
    h("h2", { id: "new-company" }, "New company"),
    problemBox(),
    h(
      "div",
      { class: "row" },
      field({ label: "Name", name: "name", required: true, help: "e.g. Acme Corporation" }),
      field({ label: "Email domains", name: "domains", type: "textarea", rows: 2, help: "The domains its people write from, one per line or comma-separated, e.g. acme.com, acme-corp.com." }),
    ),
    field({ label: "Default company", name: "isDefault", type: "checkbox", help: "Receives the mail of unmapped domains (see Ticket rules)." }),
    h("button", { type: "submit", class: "primary" }, "Create company"),
    h("div", { class: "outcome" }),
  );
  const refresh = async () => {
    const companies = await listAll("/companies");
    replace(
      list,
      table(
        ["Company", "Email domains", "Default", ""],
        companies.map((c) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, c.name),
            h("td", {}, c.domains.length ? c.domains.join(", ") : h("span", { class: "muted" }, "none")),
            h("td", {}, c.isDefault ? badge("default") : ""),
            h("td", {}, h("a", { class: "button", href: `#/companies/${c.id}`, "aria-label": `Edit ${c.name}` }, "Edit")),
          ),
        ),
        "No companies yet. Create one below and list the email domains its people write from.",
      ),
    );
  };
  onSubmit(form, async () => {
    let created;
    try {
      created = await api.post("/companies", { name: value(form, "name"), domains: lines(value(form, "domains")), isDefault: checked(form, "isDefault") });
    } catch (err) {
      return showConflict(form, err);
    }
    form.reset();
    await refresh();
    outcome(form.querySelector(".outcome"), "ok", `Created ${created.name}.`);
  });
  replace(main, h("h1", {}, "Companies"), h("p", { class: "lead" }, "A system mailbox routes each email by its sender's domain to the company that has it."), list, form);
  await refresh();
}

async function renderCompany(main, id) {
  const company = await api.get(`/companies/${id}`);
  const domains = h("div");
  const detailsForm = h(
    "form",
    { class: "card", "aria-labelledby": "company-details" },
    h("h2", { id: "company-details" }, "Details"),
    problemBox(),
    field({ label: "Name", name: "name", value: company.name, required: true }),
    field({ label: "Default company", name: "isDefault", type: "checkbox", value: company.isDefault, help: "Receives the mail of unmapped domains (see Ticket rules)." }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save"), button("Delete company", () => remove(), { class: "danger" })),
    h("div", { class: "outcome" }),
  );
  onSubmit(detailsForm, async () => {
    const saved = await api.patch(`/companies/${id}`, { name: value(detailsForm, "name"), isDefault: checked(detailsForm, "isDefault") });
    main.querySelector("h1").textContent = saved.name;
    outcome(detailsForm.querySelector(".outcome"), "ok", "Saved.");
  });
  const remove = async () => {
    if (!confirm(`Delete the company "${company.name}"?`)) return;
    try {
      await api.del(`/companies/${id}`);
      location.hash = "#/companies";
    } catch (err) {
      showProblem(detailsForm, err);
    }
  };

  const domainForm = h(
    "form",
    { class: "card", "aria-labelledby": "company-domains" },
    h("h2", { id: "company-domains" }, "Email domains"),
    domains,
    problemBox(),
    field({ label: "Add a domain", name: "domain", required: true, help: "e.g. acme-corp.com (subdomains such as mail.acme.com route here too)." }),
    field({ label: "Also route the mail from this domain that waits in Inbox review", name: "reroute", type: "checkbox", value: true }),
    h("button", { type: "submit", class: "primary" }, "Add domain"),
    h("div", { class: "outcome" }),
  );
  const showDomains = (list) =>
    replace(
      domains,
      list.length
        ? h("ul", { class: "chips" }, list.map((d) => h("li", {}, d, button("Remove", () => unmap(d), { class: "small", "aria-label": `Remove ${d}` }))))
        : h("p", { class: "empty" }, "No domains yet: mail from this company's people is routed by these."),
    );
  const unmap = async (domain) => {
    try {
      await api.del(`/companies/${id}/domains/${encodeURIComponent(domain)}`);
      showDomains((await api.get(`/companies/${id}`)).domains);
    } catch (err) {
      showProblem(domainForm, err);
    }
  };
  onSubmit(domainForm, async () => {
    let saved;
    try {
      saved = await api.post(`/companies/${id}/domains`, { domain: value(domainForm, "domain"), reroute: checked(domainForm, "reroute") });
    } catch (err) {
      return showConflict(domainForm, err);
    }
    showDomains(saved.domains);
    domainForm.elements.namedItem("domain").value = "";
    const r = saved.rerouted;
    outcome(domainForm.querySelector(".outcome"), "ok", r ? `Domain added; ${r.messages} waiting message(s) and ${r.tickets} unmapped ticket(s) rerouted.` : "Domain added.");
  });
  showDomains(company.domains);

  replace(
    main,
    h("p", {}, h("a", { href: "#/companies" }, "← Companies")),
    h("h1", {}, company.name),
    h("div", { class: "grid" }, detailsForm, domainForm),
    h(
      "section",
      { class: "card", "aria-labelledby": "company-mailboxes" },
      h("h2", { id: "company-mailboxes" }, "Company mailboxes"),
      table(
        ["Mailbox", "Address", "Kind"],
        (company.mailboxes ?? []).map((m) => h("tr", {}, h("th", { scope: "row" }, m.name), h("td", {}, m.address), h("td", {}, KIND_LABELS[m.kind] ?? m.kind))),
        "No company mailbox: this company's mail comes through the system mailbox, by domain. To give it a dedicated mailbox, add an email source with the role Company mailbox.",
      ),
      h("a", { class: "button", href: `#/sources/new/imap/${id}` }, "Add a company mailbox"),
    ),
  );
}
