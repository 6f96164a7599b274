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
  connected: "ok", ticket_created: "ok", note_added: "ok", lead_created: "ok", succeeded: "ok", active: "ok", enabled: "ok", sent: "ok",
  connecting: "info", received: "info", pending: "info", open: "info", queued: "info", sending: "info",
  needs_reauth: "warn", unrouted: "warn", waiting_for_authorization: "warn",
  duplicate: "muted", ignored: "muted", disabled: "muted", closed: "muted", cancelled: "muted",
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

/**
 * A button opening a short list of actions below it. The list is a popover, shown above the page,
 * so no table or scroll box clips it; choosing an action, Escape or a click elsewhere closes it.
 */
export function menu(label, items, attrs = {}) {
  const id = uid("menu");
  const list = h("div", { id, class: "menu", popover: "auto" }, items);
  const opener = h("button", { type: "button", class: "menu-button", popovertarget: id, ...attrs }, label, h("span", { "aria-hidden": "true" }, " ▾"));
  // Below the button, right edges aligned; above it when there is no room below. Kept there as the page scrolls.
  const place = () => {
    if (!list.isConnected) return listen(false);
    const r = opener.getBoundingClientRect();
    const height = list.getBoundingClientRect().height;
    const below = r.bottom + 4 + height <= window.innerHeight || r.top - 4 - height < 0;
    Object.assign(list.style, { top: `${below ? r.bottom + 4 : r.top - 4 - height}px`, right: `${document.documentElement.clientWidth - r.right}px` });
  };
  const listen = (on) => {
    for (const type of ["scroll", "resize"]) window[on ? "addEventListener" : "removeEventListener"](type, place, { capture: true, passive: true });
  };
  list.addEventListener("beforetoggle", (e) => e.newState === "open" && place());
  list.addEventListener("toggle", (e) => {
    const open = e.newState === "open";
    if (open) place();
    listen(open);
  });
  list.addEventListener("click", (e) => {
    if (e.target.closest("button, a") && list.matches(":popover-open")) list.hidePopover();
  });
  return [opener, list];
}

/** A live region for the outcome of an action: polite for results, assertive for errors. */
export function outcome(el, kind, ...content) {
  el.className = `outcome ${kind}`;
  el.setAttribute("role", kind === "bad" ? "alert" : "status");
  return replace(el, content);
}
