// Authorize / Re-authorize: the provider's consent screen in a popup. The popup opens inside the
// click (popup blockers allow that) and is pointed at the consent URL once the API answers;
// onClosed runs when the administrator closes it (mailgate's callback page says "You can close this window").
import { api } from "../api.js";
import { h, outcome } from "../dom.js";

export async function authorizeInPopup(btn, source, result, onClosed) {
  const popup = window.open("about:blank", "mailgate-authorize", "popup,width=600,height=720");
  btn.disabled = true;
  try {
    const { authorizationUrl } = await api.post(`/sources/${source.id}/authorize`);
    if (!popup) {
      outcome(result, "warn", "The browser blocked the popup: ", h("a", { href: authorizationUrl, target: "_blank", rel: "noopener" }, "open the sign-in page"), ".");
      return () => {};
    }
    // The provider's pages get no handle on the console; the reference kept here still sees `closed`.
    popup.opener = null;
    popup.location.href = authorizationUrl;
    outcome(result, "info", "Complete the sign-in in the popup window; the status here refreshes when it closes.");
    const timer = setInterval(() => {
      if (!popup.closed) return;
      clearInterval(timer);
      onClosed();
    }, 500);
    return () => clearInterval(timer);
  } catch (err) {
    popup?.close();
    outcome(result, "bad", err.message);
    return () => {};
  } finally {
    btn.disabled = false;
  }
}
