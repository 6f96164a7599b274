// Every call the console makes goes to /api with the admin token kept in sessionStorage (never in
// the URL). A failed call throws ApiError carrying the API's own code, message and field details.
const TOKEN_KEY = "mailgate.adminToken";

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

async function request(method, path, body, explicitToken, extraHeaders = {}) {
  const headers = { ...extraHeaders, Authorization: `Bearer ${explicitToken ?? session.token() ?? ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, "network", `mailgate did not answer (${err.message}); check that it is running.`);
  }
  if (res.ok) return res;
  const payload = await res.json().catch(() => null);
  const e = payload?.error;
  const error = new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? `mailgate answered ${res.status} ${res.statusText}.`, e?.details);
  if (res.status === 401 && explicitToken === undefined) window.dispatchEvent(new CustomEvent("mailgate:unauthorized", { detail: error }));
  throw error;
}

const json = async (res) => (res.status === 204 ? null : res.json());

export const api = {
  get: (path) => request("GET", path).then(json),
  /** headers: e.g. an Idempotency-Key, so a retried send answers the first request's result. */
  post: (path, body, headers) => request("POST", path, body ?? {}, undefined, headers).then(json),
  patch: (path, body) => request("PATCH", path, body).then(json),
  put: (path, body) => request("PUT", path, body).then(json),
  del: (path) => request("DELETE", path).then(json),
  text: (path) => request("GET", path).then((res) => res.text()),
  blob: (path) => request("GET", path).then((res) => res.blob()),
  /** Checks a token before keeping it. */
  check: (token) => request("GET", "/settings", undefined, token).then(json),
};

/** Follows nextCursor up to `max` items: the console's lists are short enough to show whole. */
export async function listAll(path, max = 500) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api.get(`${path}${sep}limit=${Math.min(500, max)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return items;
}
