// Builds elements from plain values. Text always goes in as text, never as HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
export const uid = (prefix) => `${prefix}-${++ids}`;

export function when(iso) {
  if (!iso) return h("span", { class: "muted", text: "never" });
  const d = new Date(iso);
  return h("time", { datetime: d.toISOString(), title: d.toISOString() }, d.toLocaleString());
}

const TONES = {
  connected: "ok", ticket_created: "ok", note_added: "ok", lead_created: "ok", succeeded: "ok", active: "ok", enabled: "ok",
  connecting: "info", received: "info", pending: "info",
  needs_reauth: "warn", unrouted: "warn", duplicate: "muted", ignored: "muted", disabled: "muted",
  error: "bad", failed: "bad", exhausted: "bad", expired: "bad", renewal_failed: "bad",
};

export function badge(status) {
  return h("span", { class: `badge ${TONES[status] ?? "info"}` }, String(status).replaceAll("_", " "));
}

export function table(headers, rows, empty) {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h("div", { class: "scroll" }, h("table", {}, h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows)));
}

export const button = (label, onclick, attrs = {}) => h("button", { type: "button", onclick, ...attrs }, label);

/** A live region for the outcome of an action: polite for results, assertive for errors. */
export function outcome(el, kind, ...content) {
  el.className = `outcome ${kind}`;
  el.setAttribute("role", kind === "bad" ? "alert" : "status");
  return replace(el, content);
}
