// One source's door to Microsoft Graph: the real @microsoft/microsoft-graph-client, pointed at
// GRAPH_API_URL, with the source's bearer token (sent only over https to Graph's hosts or to the
// configured one), immutable ids asked for on every request, and the client's RetryHandler
// honouring Retry-After on 429, 503 and 504 (three retries) before a failure reaches us.
import { Client, GraphError, type AuthenticationProvider } from "@microsoft/microsoft-graph-client";
import type { Context } from "../../context.ts";
import { classifyGraphFailure, type GraphFailure } from "./graph-failure.ts";
import { IMMUTABLE_ID_PREFERENCE, splitGraphApiUrl } from "./graph-endpoints.ts";
import { forgetAccessToken, graphAccessToken, GraphNotAuthorizedError } from "./graph-tokens.ts";
import { TokenEndpointError } from "./token-endpoint.ts";

/** A request that hangs is abandoned after this long and retried as transient. */
export const GRAPH_REQUEST_TIMEOUT_MS = 60_000;

export type GraphSession = {
  sourceId: string;
  client: Client;
  /** What a failed call means: the token endpoint's own error when that is what failed. */
  failureOf(err: unknown): GraphFailure;
};

export function openGraphSession(ctx: Context, sourceId: string): GraphSession {
  const root = splitGraphApiUrl(ctx.config.microsoft.graphApiUrl);
  // The client reduces whatever the auth provider throws to a message; keep the original here.
  let authFailure: unknown = null;
  const authProvider: AuthenticationProvider = {
    getAccessToken: async () => {
      try {
        return await graphAccessToken(ctx, sourceId);
      } catch (err) {
        authFailure = err;
        throw err;
      }
    },
  };
  const client = Client.initWithMiddleware({
    authProvider,
    baseUrl: root.baseUrl,
    defaultVersion: root.version,
    customHosts: new Set([root.host]),
    fetchOptions: { headers: { Prefer: IMMUTABLE_ID_PREFERENCE } },
  });
  return {
    sourceId,
    client,
    failureOf: (err) => {
      const cause = err instanceof GraphError && err.statusCode === -1 && authFailure ? authFailure : err;
      const failure = describeFailure(cause, ctx.clock.now());
      if (failure.kind === "rejected" && failure.status === 401) forgetAccessToken(ctx, sourceId);
      return failure;
    },
  };
}

/** A per-request timeout for the Graph client (`.option("signal", ...)`). */
export const requestTimeout = () => AbortSignal.timeout(GRAPH_REQUEST_TIMEOUT_MS);

function describeFailure(err: unknown, now: Date): GraphFailure {
  if (err instanceof TokenEndpointError) {
    return classifyGraphFailure({ status: err.status, code: err.error, message: err.message, now });
  }
  if (err instanceof GraphNotAuthorizedError) return { kind: "reauth", message: err.message };
  if (err instanceof GraphError) {
    return classifyGraphFailure({
      status: err.statusCode,
      code: err.code,
      message: err.message || `Microsoft Graph answered ${err.statusCode}`,
      retryAfter: err.headers?.get("Retry-After") ?? null,
      now,
    });
  }
  if (err instanceof HttpFailure) {
    return classifyGraphFailure({ status: err.status, code: err.code, message: err.message, retryAfter: err.retryAfter, now });
  }
  return classifyGraphFailure({ status: -1, message: err instanceof Error ? err.message : String(err), now });
}

/** A non-2xx answer read through ResponseType.RAW (the client then leaves the response to us). */
export class HttpFailure extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly retryAfter: string | null;

  constructor(status: number, code: string | null, message: string, retryAfter: string | null) {
    super(message);
    this.name = "HttpFailure";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  static async from(res: Response, what: string): Promise<HttpFailure> {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    return new HttpFailure(
      res.status,
      body?.error?.code ?? null,
      `${what}: Microsoft Graph answered ${res.status}${body?.error?.message ? ` (${body.error.message})` : ""}`,
      res.headers.get("Retry-After"),
    );
  }
}
