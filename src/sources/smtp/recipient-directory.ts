// Who owns which address, for the SMTP listener: every smtp source's addresses and AUTH login,
// held in memory so RCPT TO is answered without a query, and what each recipient and login is
// answered. The decisions are pure; loading the sources is the one query.
//
// Glossary
//   owner        an smtp source whose `address` or `addresses` holds the recipient
//   login        what a session signed in as: the user name and the sources whose user and
//                password it gave (two sources may share a user name, not a password)
//   permitted    an owner this session may deliver to: it has no AUTH login, or the session
//                signed in with its login
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Context } from "../../context.ts";
import { mailSources } from "../../db/schema.ts";
import { AUTH_SECRET_FIELD, storedListenerOf } from "./listener-settings.ts";

export type ListenerSource = {
  id: string;
  addresses: string[];
  enabled: boolean;
  auth: { user: string; password: string } | null;
};

export type RecipientDirectory = {
  owners(address: string): ListenerSource[];
  /** The sources whose AUTH login has this user name. */
  withUser(user: string): ListenerSource[];
};

export function buildDirectory(sources: ListenerSource[]): RecipientDirectory {
  const byAddress = new Map<string, ListenerSource[]>();
  const byUser = new Map<string, ListenerSource[]>();
  const add = (map: Map<string, ListenerSource[]>, key: string, source: ListenerSource) => map.set(key, [...(map.get(key) ?? []), source]);
  for (const source of sources) {
    for (const address of new Set(source.addresses.map((a) => a.toLowerCase()))) add(byAddress, address, source);
    if (source.auth) add(byUser, source.auth.user, source);
  }
  return { owners: (address) => byAddress.get(address.toLowerCase()) ?? [], withUser: (user) => byUser.get(user) ?? [] };
}

export type Login = { user: string; sourceIds: readonly string[] };

export type RecipientDecision =
  | { kind: "accept"; sourceIds: string[] }
  | { kind: "refuse"; code: number; message: string; counts: boolean; reason: "unknown_recipient" | "disabled" | "auth" };

/**
 * What RCPT TO `address` is answered in a session with this login (null: not signed in).
 * `counts`: the refusal is one of the connection's refused recipients (an address probe).
 */
export function decideRecipient(directory: RecipientDirectory, address: string, login: Login | null): RecipientDecision {
  const owners = directory.owners(address);
  if (owners.length === 0) return { kind: "refuse", code: 550, message: `5.1.1 <${address}>: no such mailbox here`, counts: true, reason: "unknown_recipient" };
  const enabled = owners.filter((s) => s.enabled);
  // A source switched off for a while: the sender keeps the mail and retries.
  if (enabled.length === 0) return { kind: "refuse", code: 450, message: `4.2.1 <${address}>: mailbox disabled, try again later`, counts: false, reason: "disabled" };
  const permitted = enabled.filter((s) => s.auth === null || (login?.sourceIds.includes(s.id) ?? false));
  if (permitted.length === 0) {
    return login === null
      ? { kind: "refuse", code: 530, message: `5.7.0 Authentication required to deliver to <${address}>`, counts: true, reason: "auth" }
      : { kind: "refuse", code: 550, message: `5.7.1 ${login.user} may not deliver to <${address}>`, counts: true, reason: "auth" };
  }
  return { kind: "accept", sourceIds: permitted.map((s) => s.id) };
}

/** The sources a transaction's copies go to: the permitted owners of every recipient, once each. */
export function copiesFor(directory: RecipientDirectory, recipients: string[], login: Login | null): string[] {
  const ids = new Set<string>();
  for (const address of recipients) {
    const decision = decideRecipient(directory, address, login);
    if (decision.kind === "accept") for (const id of decision.sourceIds) ids.add(id);
  }
  return [...ids];
}

/** The login user/password gives: the sources with that user and password; null when none. Compared in constant time. */
export function checkLogin(directory: RecipientDirectory, user: string, password: string): Login | null {
  const given = digest(password);
  const sourceIds = directory.withUser(user).filter((s) => s.auth !== null && timingSafeEqual(digest(s.auth.password), given)).map((s) => s.id);
  return sourceIds.length > 0 ? { user, sourceIds } : null;
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** Every smtp source, its secrets opened. A source whose secrets cannot be opened keeps its addresses, refusing everyone (a login nobody knows). */
export async function loadListenerSources(ctx: Context): Promise<ListenerSource[]> {
  const rows = await ctx.db
    .select({ id: mailSources.id, address: mailSources.address, status: mailSources.status, config: mailSources.config, secrets: mailSources.secrets })
    .from(mailSources)
    .where(eq(mailSources.kind, "smtp"));
  return rows.map((row) => {
    const stored = storedListenerOf((row.config ?? {}) as Record<string, unknown>);
    let password: unknown;
    if (stored.auth) {
      try {
        password = row.secrets ? ctx.secrets.openJson<Record<string, unknown>>(row.secrets)[AUTH_SECRET_FIELD] : undefined;
      } catch (err) {
        ctx.log.warn({ err, sourceId: row.id }, "cannot open the secrets of an smtp source; its AUTH login is refused until they can be");
      }
    }
    return {
      id: row.id,
      addresses: [row.address, ...stored.addresses],
      enabled: row.status !== "disabled",
      auth: stored.auth ? { user: stored.auth.user, password: typeof password === "string" ? password : randomUnguessable() } : null,
    };
  });
}

const randomUnguessable = () => randomBytes(32).toString("hex");
