// Ticket rules ("Ticket Creation Rules", "Unmapped Domains", attachments, acknowledgements): GET
// and PUT /api/settings.
import { api, listAll } from "../api.js";
import { h, outcome, replace } from "../dom.js";
import { checked, field, lines, onSubmit, problemBox, value } from "../forms.js";
import { acknowledgementFieldset, readAcknowledgement, SAMPLE_ADDRESS } from "./acknowledgement-settings.js";

const MB = 1024 * 1024;

export async function render(main) {
  const [rules, jobTypes, techs, companies, sources] = await Promise.all([
    api.get("/settings"),
    listAll("/job-types"),
    listAll("/techs"),
    listAll("/companies"),
    api.get("/sources?limit=1"),
  ]);
  const jobTypeList = h("datalist", { id: "job-types" }, jobTypes.map((j) => h("option", { value: j.name })));
  const assign = field({ label: "Auto-assign", name: "autoAssign.mode", value: rules.autoAssign.mode, options: [["none", "None"], ["specific", "A specific tech"], ["round_robin", "Round-robin among active techs"]] });
  const tech = field({
    label: "Tech",
    name: "autoAssign.techId",
    value: rules.autoAssign.techId ?? "",
    options: [["", techs.length ? "Choose a tech" : "No techs yet: add them through the API"], ...techs.map((t) => [t.id, `${t.name} <${t.email}>`])],
  });
  const unmapped = field({
    label: "Mail from unmapped domains",
    name: "unmappedDomains.mode",
    value: rules.unmappedDomains.mode,
    options: [["default_company", "Create tickets for the default company"], ["lead", "Create new leads (CRM)"]],
  });
  const defaultCompany = field({
    label: "Default company",
    name: "unmappedDomains.defaultCompanyId",
    value: rules.unmappedDomains.defaultCompanyId ?? "",
    options: [["", "The company marked Default"], ...companies.map((c) => [c.id, c.name])],
    help: "With no company marked Default, the mail waits in Inbox review.",
  });
  // The preview stands for mail that came in through the first source.
  const acknowledgement = acknowledgementFieldset(rules.acknowledgement, sources.items[0]?.address ?? SAMPLE_ADDRESS, () => form.elements.namedItem("ticketSubjectTag").value);
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "rules-title" },
    problemBox(),
    h(
      "fieldset",
      {},
      h("legend", {}, "New tickets"),
      h(
        "div",
        { class: "row" },
        field({ label: "Default priority", name: "defaultPriority", value: rules.defaultPriority, options: ["low", "normal", "high", "urgent"].map((p) => [p, p[0].toUpperCase() + p.slice(1)]) }),
        field({ label: "Default job type", name: "defaultJobType", value: rules.defaultJobType, list: "job-types", required: true, help: "Any defined job type; its own default priority wins over the one here." }),
      ),
      jobTypeList,
      h("div", { class: "row" }, assign, tech),
      h(
        "div",
        { class: "row" },
        field({ label: "Ticket subject tag", name: "ticketSubjectTag", value: rules.ticketSubjectTag, required: true, help: `Replies with "[${rules.ticketSubjectTag}1234]" in the subject become notes on ticket 1234.` }),
        field({ label: "Create contacts for new senders", name: "createContacts", type: "checkbox", value: rules.createContacts }),
      ),
    ),
    h("fieldset", {}, h("legend", {}, "Unmapped domains"), h("div", { class: "row" }, unmapped, defaultCompany)),
    h(
      "fieldset",
      {},
      h("legend", {}, "Attachments"),
      h(
        "div",
        { class: "row" },
        field({ label: "Attachments", name: "attachments.mode", value: rules.attachments.mode, options: [["save", "Save to ticket"], ["ignore", "Ignore"]] }),
        field({ label: "Largest attachment (MB)", name: "attachments.maxBytes", type: "number", min: 0.001, step: "any", value: +(rules.attachments.maxBytes / MB).toFixed(3), help: "Default 25 MB; larger files are skipped and noted on the message." }),
      ),
      field({ label: "Allowed file types", name: "attachments.allowedTypes", type: "textarea", rows: 2, value: rules.attachments.allowedTypes.join(", "), help: "Extensions (.pdf) or MIME types (image/*), comma-separated; empty allows every type." }),
    ),
    acknowledgement.fieldset,
    h("button", { type: "submit", class: "primary" }, "Save rules"),
    h("div", { class: "outcome" }),
  );
  const sync = () => {
    tech.hidden = value(form, "autoAssign.mode") !== "specific";
    defaultCompany.hidden = value(form, "unmappedDomains.mode") !== "default_company";
  };
  form.addEventListener("change", sync);
  sync();
  // The preview follows every keystroke, the subject tag's too.
  form.addEventListener("input", acknowledgement.update);
  form.addEventListener("change", acknowledgement.update);
  acknowledgement.update();
  onSubmit(form, async () => {
    const mode = value(form, "autoAssign.mode");
    const unmappedMode = value(form, "unmappedDomains.mode");
    await api.put("/settings", {
      defaultPriority: value(form, "defaultPriority"),
      defaultJobType: value(form, "defaultJobType"),
      autoAssign: mode === "specific" ? { mode, techId: value(form, "autoAssign.techId") } : { mode },
      attachments: {
        mode: value(form, "attachments.mode"),
        maxBytes: Math.round(Number(value(form, "attachments.maxBytes")) * MB),
        allowedTypes: lines(value(form, "attachments.allowedTypes")),
      },
      unmappedDomains: unmappedMode === "default_company" ? { mode: unmappedMode, defaultCompanyId: value(form, "unmappedDomains.defaultCompanyId") || null } : { mode: unmappedMode },
      ticketSubjectTag: form.elements.namedItem("ticketSubjectTag").value,
      createContacts: checked(form, "createContacts"),
      acknowledgement: readAcknowledgement(form),
    });
    outcome(form.querySelector(".outcome"), "ok", "Saved: new mail follows these rules from now on.");
  });
  replace(main, h("h1", { id: "rules-title" }, "Ticket rules"), h("p", { class: "lead" }, "How mailgate turns an email into a ticket."), form);
}
