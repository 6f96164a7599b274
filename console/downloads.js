// Files behind the API (attachments, raw messages) need the admin token, which a plain link cannot
// carry: the link fetches them with it and hands the bytes to the browser as a download.
import { api } from "./api.js";
import { h } from "./dom.js";

/** A link to /api{path}; following it downloads the file under `filename`. */
export function downloadLink(path, filename, label, attrs = {}) {
  return h("a", {
    href: `/api${path}`,
    download: filename,
    ...attrs,
    onclick: async (e) => {
      e.preventDefault();
      const link = e.currentTarget;
      link.setAttribute("aria-busy", "true");
      try {
        save(await api.blob(path), filename);
      } catch (err) {
        link.after(h("span", { class: "error-text small", role: "alert" }, ` ${err.message}`));
      } finally {
        link.removeAttribute("aria-busy");
      }
    },
  }, label);
}

function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
