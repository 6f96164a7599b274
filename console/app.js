// The console shell: sign-in with the admin token, navigation, and a hash router over the screens.
// Each screen is a module loaded on first visit with render(main, route) → optional cleanup, where
// route is {params, query, title}: "#/tickets/abc?q=vpn" has params ["abc"] and query q=vpn.
import { api, session } from "./api.js";
import { h, replace } from "./dom.js";
import { field, onSubmit, problemBox, showProblem, value } from "./forms.js";

const SCREENS = [
  { path: "overview", title: "Overview", load: () => import("./screens/overview.js") },
  { path: "tickets", title: "Tickets", load: () => import("./screens/tickets.js") },
  { path: "sources", title: "Email sources", load: () => import("./screens/sources.js") },
  { path: "companies", title: "Companies", load: () => import("./screens/companies.js") },
  { path: "rules", title: "Ticket rules", load: () => import("./screens/ticket-rules.js") },
  { path: "inbox", title: "Inbox review", load: () => import("./screens/inbox-review.js") },
  { path: "webhooks", title: "Webhooks", load: () => import("./screens/webhooks.js") },
  { path: "errors", title: "Error log", load: () => import("./screens/error-log.js") },
  { path: "subscriptions", title: "Subscriptions", load: () => import("./screens/subscriptions.js") },
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const signOutButton = document.getElementById("sign-out");
let cleanup = null;

function showSignIn(message) {
  cleanup?.();
  cleanup = null;
  nav.hidden = true;
  signOutButton.hidden = true;
  document.title = "Sign in · mailgate console";
  const form = h(
    "form",
    { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    problemBox(),
    field({
      label: "Admin API token",
      name: "token",
      type: "password",
      required: true,
      autocomplete: "current-password",
      help: "The ADMIN_API_TOKEN, or the token mailgate printed on its first start (kept in DATA_DIR/admin-token). It stays in this browser tab only.",
    }),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  onSubmit(form, async () => {
    const token = value(form, "token");
    await api.check(token);
    session.signIn(token);
    start();
  });
  replace(main, form);
  if (message) showProblem(form, { message });
  else form.elements.namedItem("token").focus();
}

function renderNav(current) {
  replace(
    nav,
    h("ul", {}, SCREENS.map((s) => h("li", {}, h("a", { href: `#/${s.path}`, "aria-current": s.path === current ? "page" : null }, s.title)))),
  );
}

async function route() {
  if (!session.token()) return showSignIn();
  const [where, search = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [path = "overview", ...params] = where.split("/").map(decodeURIComponent);
  const screen = SCREENS.find((s) => s.path === path) ?? SCREENS[0];
  cleanup?.();
  cleanup = null;
  nav.hidden = false;
  signOutButton.hidden = false;
  renderNav(screen.path);
  document.title = `${screen.title} · mailgate console`;
  const mod = await screen.load();
  replace(main);
  cleanup = (await mod.render(main, { params, query: new URLSearchParams(search), title: screen.title })) ?? null;
  main.querySelector("h1")?.setAttribute("tabindex", "-1");
  if (!main.contains(document.activeElement) || document.activeElement === main) main.querySelector("h1")?.focus();
}

function start() {
  if (!location.hash) history.replaceState(null, "", "#/overview");
  route().catch((err) => replace(main, h("p", { class: "problem", role: "alert" }, err.message)));
}

window.addEventListener("hashchange", () => start());
window.addEventListener("mailgate:unauthorized", (e) => {
  session.signOut();
  showSignIn(e.detail.message);
});
signOutButton.addEventListener("click", () => {
  session.signOut();
  showSignIn();
});
start();
