// Labelled fields, and the API's validation answer shown where it belongs: the message on top of
// the form, each field problem under its field (inputs are named by the API's field path).
import { h, replace, uid } from "./dom.js";

/** A labelled input, select (options: [[value, label]]) or textarea, with optional help text. */
export function field({ label, name, type = "text", value, help, options, rows, required, ...rest }) {
  const id = uid("f");
  const helpId = help ? `${id}-help` : undefined;
  let control;
  if (options) {
    control = h("select", { id, name, required, ...rest }, options.map(([v, text]) => h("option", { value: v }, text)));
    if (value !== undefined && value !== null) control.value = String(value);
  } else if (type === "textarea") {
    control = h("textarea", { id, name, rows: rows ?? 3, required, ...rest });
    control.value = value ?? "";
  } else if (type === "checkbox") {
    control = h("input", { id, name, type, checked: Boolean(value), ...rest });
  } else {
    control = h("input", { id, name, type, required, ...rest });
    if (value !== undefined && value !== null) control.value = String(value);
  }
  if (helpId) control.setAttribute("aria-describedby", helpId);
  // The star stays outside the label, so the field's accessible name is the label alone.
  const labelEl = h("label", { for: id }, label);
  const star = required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null;
  const helpEl = help ? h("p", { class: "help", id: helpId }, help) : null;
  return type === "checkbox"
    ? h("div", { class: "field check" }, control, labelEl, helpEl)
    : h("div", { class: "field" }, labelEl, star, control, helpEl);
}

export const value = (form, name) => form.elements.namedItem(name)?.value.trim() ?? "";
export const checked = (form, name) => Boolean(form.elements.namedItem(name)?.checked);
export const lines = (text) => text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);

export function problemBox() {
  return h("div", { class: "problem", hidden: true, tabindex: "-1" });
}

export function clearProblems(form) {
  const box = form.querySelector(".problem");
  if (box) box.hidden = true;
  for (const el of form.querySelectorAll(".outcome")) {
    el.className = "outcome";
    el.replaceChildren();
  }
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const described = (el.getAttribute("aria-describedby") ?? "").split(" ").filter((id) => !id.endsWith("-err")).join(" ");
    if (described) el.setAttribute("aria-describedby", described);
    else el.removeAttribute("aria-describedby");
  }
}

/** Shows an ApiError (or any error) in the form: the message, then every field problem. */
export function showProblem(form, err) {
  clearProblems(form);
  const box = form.querySelector(".problem");
  const unplaced = [];
  for (const p of Array.isArray(err.details) ? err.details : []) {
    if (!p || typeof p.field !== "string") continue;
    const control = form.elements.namedItem(p.field);
    if (control instanceof Element) {
      const errId = `${control.id}-err`;
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", `${control.getAttribute("aria-describedby") ?? ""} ${errId}`.trim());
      control.closest(".field")?.append(h("p", { class: "field-error", id: errId }, p.message));
    } else unplaced.push(p);
  }
  replace(box, h("p", {}, err.message), unplaced.length ? h("ul", {}, unplaced.map((p) => h("li", {}, h("code", {}, p.field), ": ", p.message))) : null);
  box.setAttribute("role", "alert");
  box.hidden = false;
  box.focus();
}

/** Runs an async submit with the submit button busy; an error lands in the form. */
export function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    if (submit) submit.disabled = true;
    clearProblems(form);
    try {
      await handler(event);
    } catch (err) {
      showProblem(form, err);
    } finally {
      if (submit) submit.disabled = false;
    }
  });
  return form;
}
