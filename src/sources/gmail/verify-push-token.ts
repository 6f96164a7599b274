// Authenticates a Pub/Sub push: the OIDC token in Authorization must be a well-formed RS256 JWT
// (checked before anything is fetched), then google-auth-library verifies it (signature against the
// certs at GOOGLE_OAUTH_CERTS_URL, issuer, expiry, audience GMAIL_PUSH_AUDIENCE), then its claims
// must name the push subscription's service account. The answer's message is for anyone on the
// internet and says nothing about mailgate; the reason, for the log, says what failed.
import type { Certificates, OAuth2Client } from "google-auth-library";
import type { Context } from "../../context.ts";
import { createOAuthClient } from "./oauth-client.ts";
import { checkPushClaims } from "./push-claims.ts";
import { pushTokenShape } from "./push-token-shape.ts";

export type PushVerdict =
  | { ok: true }
  | {
      ok: false;
      status: 401 | 503;
      code: "unauthorized" | "not_ready";
      /** The response body's message: generic, no URLs, errors or configuration. */
      message: string;
      /** For the log; null when it was already logged (an outage is logged once, not per push). */
      reason: string | null;
    };
export type PushVerifier = (authorization: string | undefined) => Promise<PushVerdict>;

/** A token signed by a key the cached certs do not have refetches them, at most this often. */
export const CERTS_REFRESH_MIN_INTERVAL_MS = 60_000;

const NO_TOKEN = "The push carries no bearer token: the push subscription must use authentication (an OIDC token).";
const REJECTED = "The push's OIDC token was not accepted.";
const NOT_SET_UP = "Gmail push is not set up on this server.";
const CERTS_UNAVAILABLE = "The push cannot be verified right now; deliver it again later.";

type Certs = { certs: Certificates; fetched: boolean };

export function createPushVerifier(ctx: Pick<Context, "config" | "log" | "clock">): PushVerifier {
  const { config } = ctx;
  const serviceAccount = config.google.pushServiceAccount;
  // The client caches Google's certs for as long as their Cache-Control allows; a refresh swaps in
  // a new client (its cache empty, so it fetches) once it has fetched.
  let client = createOAuthClient(config);
  let inFlight: Promise<Certs> | null = null;
  let refreshing: Promise<Certs> | null = null;
  let lastRefreshAt = -Infinity;
  let outage: { since: number; failures: number } | null = null;
  let toldNotSetUp = false;

  const now = () => ctx.clock.now().getTime();
  const rejected = (reason: string): PushVerdict => ({ ok: false, status: 401, code: "unauthorized", message: REJECTED, reason });

  // One fetch at a time: a burst of pushes while the cache is empty or stale costs one request to Google.
  function certs(): Promise<Certs> {
    if (inFlight) return inFlight;
    inFlight = load(client).finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  // Google rotates its keys: a kid the cached certs lack may be newer than them. Ask once (pushes
  // meanwhile wait for that answer), then not again for a minute: made-up kids cannot make
  // mailgate fetch the certs per request.
  function refresh(): Promise<Certs> | null {
    if (refreshing) return refreshing;
    if (now() - lastRefreshAt < CERTS_REFRESH_MIN_INTERVAL_MS) return null;
    lastRefreshAt = now();
    refreshing = load(createOAuthClient(config)).finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function load(from: OAuth2Client): Promise<Certs> {
    let got;
    try {
      got = await from.getFederatedSignonCertsAsync();
    } catch (err) {
      throw unavailable(err instanceof Error ? err.message : String(err));
    }
    if (typeof got.certs !== "object" || got.certs === null || Array.isArray(got.certs)) {
      client = createOAuthClient(config); // not cached in the client used from now on
      throw unavailable(`${config.google.certsUrl} did not answer a JSON object of certificates`);
    }
    if (got.res) {
      client = from;
      if (outage) {
        ctx.log.info({ downForMs: now() - outage.since, failures: outage.failures }, "Google's signing certificates can be fetched again; Gmail pushes are verified again");
        outage = null;
      }
    }
    return { certs: got.certs, fetched: Boolean(got.res) };
  }

  function unavailable(detail: string): CertsUnavailable {
    if (outage) {
      outage.failures++;
    } else {
      outage = { since: now(), failures: 1 };
      ctx.log.warn(
        { reason: detail.slice(0, 500), certsUrl: config.google.certsUrl },
        "Google's signing certificates cannot be fetched: Gmail pushes get 503 (Pub/Sub delivers them again) until they can",
      );
    }
    return new CertsUnavailable();
  }

  async function verifiedClaims(token: string, kid: string): Promise<PushVerdict> {
    let known = await certs();
    if (!Object.hasOwn(known.certs, kid) && !known.fetched) known = (await refresh()) ?? known;
    if (!Object.hasOwn(known.certs, kid)) return rejected("the token is signed by a key Google does not publish (unknown kid)");
    try {
      const ticket = await client.verifySignedJwtWithCertsAsync(token, known.certs, config.google.pushAudience, client.issuers);
      const check = checkPushClaims(ticket.getPayload(), serviceAccount!);
      return check.ok ? { ok: true } : rejected(check.reason);
    } catch (err) {
      // google-auth-library quotes the whole token or its payload in some messages: keep only the reason.
      return rejected((err instanceof Error ? err.message : String(err)).split(/:\s*(?=ey|\{)/)[0]!.slice(0, 300));
    }
  }

  return async (authorization) => {
    if (!serviceAccount) {
      const reason = toldNotSetUp
        ? null
        : "GMAIL_PUSH_SERVICE_ACCOUNT is not set: set it to the service account the push subscription authenticates as; until then pushes get 503";
      toldNotSetUp = true;
      return { ok: false, status: 503, code: "not_ready", message: NOT_SET_UP, reason };
    }
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
    if (!match) return { ok: false, status: 401, code: "unauthorized", message: NO_TOKEN, reason: "no bearer token" };
    const shape = pushTokenShape(match[1]!);
    if (!shape.ok) return rejected(shape.reason);
    try {
      return await verifiedClaims(match[1]!, shape.kid);
    } catch (err) {
      if (!(err instanceof CertsUnavailable)) throw err;
      return { ok: false, status: 503, code: "not_ready", message: CERTS_UNAVAILABLE, reason: null };
    }
  };
}

class CertsUnavailable extends Error {
  constructor() {
    super("Google's signing certificates cannot be fetched");
  }
}
