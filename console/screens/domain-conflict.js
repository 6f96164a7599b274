// A domain that another company has (the API's 409 domain_conflict), said in words from the answer's
// fields (domain, companyId, companyName): which company has it, a link there, and a button that
// removes it from that company so it can be added here.
import { api } from "../api.js";
import { button, h } from "../dom.js";

export const isDomainConflict = (err) =>
  err?.code === "domain_conflict" && typeof err.details?.domain === "string" && typeof err.details?.companyId === "string" && typeof err.details?.companyName === "string";

/** The explanation and its two ways out; onRemoved(text) runs once the other company no longer has the domain. */
export function domainConflict(err, onRemoved, onFailed) {
  const { domain, companyId, companyName } = err.details;
  const remove = button(
    `Remove ${domain} from ${companyName}`,
    async () => {
      remove.disabled = true;
      try {
        await api.del(`/companies/${companyId}/domains/${encodeURIComponent(domain)}`);
        onRemoved(`Removed ${domain} from ${companyName}.`);
      } catch (e) {
        remove.disabled = false;
        onFailed(e);
      }
    },
    { class: "danger" },
  );
  return [
    h("p", {}, `The domain ${domain} already belongs to the company ${companyName}, and a domain routes to one company only. Remove it from ${companyName} first, or leave it out.`),
    h("div", { class: "actions" }, h("a", { class: "button", href: `#/companies/${companyId}` }, `Open ${companyName}`), remove),
  ];
}
