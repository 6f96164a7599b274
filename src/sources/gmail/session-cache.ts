// The sync worker keeps one Gmail session per source between syncs: the OAuth client with its
// access token and the API client are built once, not per notification. A session is replaced as
// soon as the stored settings or secrets differ from the ones it was built from (a new
// authorization, a PATCH, a refreshed token written by another instance).
import type { Context } from "../../context.ts";
import type { SourceRecord } from "../../db/sources.ts";
import { openGmailSession, type GmailSession } from "./gmail-session.ts";

export type SessionCache = { session(row: SourceRecord): GmailSession; forget(sourceId: string): void };

export function createSessionCache(ctx: Context): SessionCache {
  const sessions = new Map<string, { secrets: Buffer | null; config: string; session: GmailSession }>();
  return {
    session: (row) => {
      const config = JSON.stringify(row.config);
      const cached = sessions.get(row.id);
      if (cached && cached.config === config && sameBytes(cached.secrets, row.secrets)) {
        // Same clients, with the row as it is now (its cursor and sync times have moved).
        return { ...cached.session, source: { ...cached.session.source, row } };
      }
      const session = openGmailSession(ctx, row);
      sessions.set(row.id, { secrets: row.secrets, config, session });
      return session;
    },
    forget: (sourceId) => void sessions.delete(sourceId),
  };
}

const sameBytes = (a: Buffer | null, b: Buffer | null) => (a === null || b === null ? a === b : a.equals(b));
