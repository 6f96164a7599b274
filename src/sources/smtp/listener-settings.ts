// The settings of an `smtp` source, whose mail the SMTP listener receives: the addresses it owns
// and, optionally, the AUTH login a sending server must use to deliver to them.
//
// Request: `address` (the first owned address), `addresses` (more of them) and
// `config: {auth: {user, password}}`. Stored: the extra addresses and the AUTH user in
// mail_sources.config (beside an SMTP sending block, if any); the AUTH password sealed in the
// secrets as `authPassword`. The API shows `addresses` and `config.auth` with `hasPassword`.
import { z } from "zod";
import type { FieldProblem } from "../../errors.ts";
import type { SourceKind } from "../source-config.ts";

export const AUTH_SECRET_FIELD = "authPassword";

const user = z.string().trim().min(1, "must not be empty").max(256);
const password = z.string().min(8, "expected at least 8 characters").max(1000);

export const listenerConfigInput = z
  .object({ auth: z.object({ user, password }).strict().nullish() })
  .strict();
export type ListenerConfigInput = z.infer<typeof listenerConfigInput>;

/** What mail_sources.config holds for an smtp source (besides an SMTP sending block). */
export type StoredListener = { addresses: string[]; auth?: { user: string } };

export const MAX_ADDRESSES = 100;

/** Fields of the request that only an smtp source takes (and `config`, an inbound-webhook source too). */
export function listenerFieldProblems(kind: SourceKind, input: { addresses?: unknown; config?: unknown }): FieldProblem[] {
  if (kind === "smtp") return [];
  const problems: FieldProblem[] = [];
  if (input.addresses !== undefined) problems.push({ field: "addresses", message: `only for kind "smtp"; this source is kind "${kind}": remove it` });
  if (input.config !== undefined && kind !== "inbound-webhook") {
    problems.push({ field: "config", message: `only for kinds "smtp" and "inbound-webhook"; this source is kind "${kind}": remove it` });
  }
  return problems;
}

/** The extra addresses, lower case, once each, without the primary address. */
export const extraAddresses = (primary: string, addresses: string[] | undefined): string[] =>
  [...new Set((addresses ?? []).map((a) => a.toLowerCase()))].filter((a) => a !== primary.toLowerCase());

export function splitListener(
  primary: string,
  addresses: string[] | undefined,
  config: ListenerConfigInput | undefined,
): { config: StoredListener; secrets: Record<string, string> } {
  const auth = config?.auth ?? null;
  return {
    config: { addresses: extraAddresses(primary, addresses), ...(auth ? { auth: { user: auth.user } } : {}) },
    secrets: auth ? { [AUTH_SECRET_FIELD]: auth.password } : {},
  };
}

export function storedListenerOf(config: Record<string, unknown>): StoredListener {
  const addresses = Array.isArray(config.addresses) ? (config.addresses as string[]) : [];
  const auth = config.auth as { user?: unknown } | undefined;
  return { addresses, ...(auth && typeof auth.user === "string" ? { auth: { user: auth.user } } : {}) };
}

/**
 * The listener's settings after a PATCH: `addresses` replaces the list; `config.auth` is merged
 * with the stored login (an omitted password is kept), null removes it. Validated whole.
 */
export function mergeListenerPatch(
  stored: StoredListener,
  storedPassword: unknown,
  patch: { addresses?: string[]; config?: Record<string, unknown> },
): { addresses: string[]; config: ListenerConfigInput } {
  const addresses = patch.addresses ?? stored.addresses;
  const authPatch = patch.config?.auth;
  let auth: Record<string, unknown> | null = stored.auth ? { user: stored.auth.user, password: storedPassword } : null;
  if (authPatch === null) auth = null;
  else if (authPatch !== undefined) auth = { ...auth, ...(authPatch as Record<string, unknown>) };
  const config = { ...(patch.config ?? {}), auth };
  return { addresses, config: config as ListenerConfigInput };
}

/** The API's view: the extra addresses and the AUTH user, never the password. */
export function listenerView(config: Record<string, unknown>, secrets: Record<string, unknown>) {
  const stored = storedListenerOf(config);
  const hasPassword = typeof secrets[AUTH_SECRET_FIELD] === "string";
  return { addresses: stored.addresses, config: { auth: stored.auth ? { user: stored.auth.user, hasPassword } : null } };
}
