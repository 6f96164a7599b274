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
type VerifierContext = Pick<Context, "config" | "log" | "clock">;

export function createPushVerifier(ctx: VerifierContext): PushVerifier {
  const serviceAccount = ctx.config.google.pushServiceAccount;
  const cache = createCertsCache(ctx);
  let toldNotSetUp = false;

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
      return await verifiedClaims(ctx, cache, serviceAccount, match[1]!, shape.kid);
    } catch (err) {
      if (!(err instanceof CertsUnavailable)) throw err;
      return { ok: false, status: 503, code: "not_ready", message: CERTS_UNAVAILABLE, reason: null };
    }
  };
}

function rejected(reason: string): PushVerdict {
  return { ok: false, status: 401, code: "unauthorized", message: REJECTED, reason };
}

async function verifiedClaims(ctx: Pick<Context, "config">, cache: CertsCache, serviceAccount: string, token: string, kid: string): Promise<PushVerdict> {
  let known = await cache.certs();
  if (!Object.hasOwn(known.certs, kid) && !known.fetched) known = (await cache.refresh()) ?? known;
  if (!Object.hasOwn(known.certs, kid)) return rejected("the token is signed by a key Google does not publish (unknown kid)");
  const client = cache.client();
  try {
    const ticket = await client.verifySignedJwtWithCertsAsync(token, known.certs, ctx.config.google.pushAudience, client.issuers);
    const check = checkPushClaims(ticket.getPayload(), serviceAccount);
    return check.ok ? { ok: true } : rejected(check.reason);
  } catch (err) {
    // google-auth-library quotes the whole token or its payload in some messages: keep only the reason.
    return rejected((err instanceof Error ? err.message : String(err)).split(/:\s*(?=ey|\{)/)[0]!.slice(0, 300));
  }
}

type CertsCache = {
  /** The cached certs, fetched when the cache is empty or stale. */
  certs(): Promise<Certs>;
  /** Fetches the certs anew, unless that was done less than CERTS_REFRESH_MIN_INTERVAL_MS ago (null). */
  refresh(): Promise<Certs> | null;
  /** The client whose cache holds the certs last fetched. */
  client(): OAuth2Client;
};

function createCertsCache(ctx: VerifierContext): CertsCache {
  const { config } = ctx;
  // The client caches Google's certs for as long as their Cache-Control allows; a refresh swaps in
  // a new client (its cache empty, so it fetches) once it has fetched.
  let client = createOAuthClient(config);
  let inFlight: Promise<Certs> | null = null;
  let refreshing: Promise<Certs> | null = null;
  let lastRefreshAt = -Infinity;
  const outage = createCertsOutage(ctx);
  const now = () => ctx.clock.now().getTime();

  async function load(from: OAuth2Client): Promise<Certs> {
    let got;
    try {
      got = await from.getFederatedSignonCertsAsync();
    } catch (err) {
      throw outage.failed(err instanceof Error ? err.message : String(err));
    }
    if (typeof got.certs !== "object" || got.certs === null || Array.isArray(got.certs)) {
      client = createOAuthClient(config); // not cached in the client used from now on
      throw outage.failed(`${config.google.certsUrl} did not answer a JSON object of certificates`);
    }
    if (got.res) {
      client = from;
      outage.ended();
    }
    return { certs: got.certs, fetched: Boolean(got.res) };
  }

  return {
    // One fetch at a time: a burst of pushes while the cache is empty or stale costs one request to Google.
    certs() {
      if (inFlight) return inFlight;
      inFlight = load(client).finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    // Google rotates its keys: a kid the cached certs lack may be newer than them. Ask once (pushes
    // meanwhile wait for that answer), then not again for a minute: made-up kids cannot make
    // mailgate fetch the certs per request.
    refresh() {
      if (refreshing) return refreshing;
      if (now() - lastRefreshAt < CERTS_REFRESH_MIN_INTERVAL_MS) return null;
      lastRefreshAt = now();
      refreshing = load(createOAuthClient(config)).finally(() => {
        refreshing = null;
      });
      return refreshing;
    },
    client: () => client,
  };
}

/** Logs an outage of Google's certs once when it starts and once when it ends, not per push. */
function createCertsOutage(ctx: VerifierContext) {
  let outage: { since: number; failures: number } | null = null;
  const now = () => ctx.clock.now().getTime();
  return {
    failed(detail: string): CertsUnavailable {
      if (outage) {
        outage.failures++;
      } else {
        outage = { since: now(), failures: 1 };
        ctx.log.warn(
          { reason: detail.slice(0, 500), certsUrl: ctx.config.google.certsUrl },
          "Google's signing certificates cannot be fetched: Gmail pushes get 503 (Pub/Sub delivers them again) until they can",
        );
      }
      return new CertsUnavailable();
    },
    ended(): void {
      if (outage) {
        ctx.log.info({ downForMs: now() - outage.since, failures: outage.failures }, "Google's signing certificates can be fetched again; Gmail pushes are verified again");
        outage = null;
      }
    },
  };
}

class CertsUnavailable extends Error {
  constructor() {
    super("Google's signing certificates cannot be fetched");
  }
}
