// What each kind of source stores: non-secret settings in mail_sources.config (JSON), secrets
// sealed in mail_sources.secrets, and the provider cursor in mail_sources.cursor.
import { z } from "zod";

import { SOURCE_KINDS, SOURCE_STATUSES, type SourceKind, type SourceStatus } from "../db/statuses.ts";

export { SOURCE_KINDS, SOURCE_STATUSES, type SourceKind, type SourceStatus };

export const scheduleSchema = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("continuous") }).strict(),
  z
    .object({
      mode: z.literal("scheduled"),
      cron: z.array(z.string().trim().min(1)).min(1, "give at least one cron expression, e.g. \"0 8-18 * * 1-5\""),
      timezone: z.string().min(1).default("UTC"),
    })
    .strict(),
  z.object({ mode: z.literal("manual") }).strict(),
]);
export type Schedule = z.infer<typeof scheduleSchema>;

export type ImapConfig = {
  host: string;
  port: number;
  security: "ssl" | "starttls" | "none";
  user: string;
  folder: string;
  postProcess: { action: "none" | "mark_seen" | "move"; folder?: string };
};
export type ImapSecrets = { password: string };
export type ImapCursor = { uidValidity: string; lastUid: number };

export type GmailConfig = {
  clientId: string;
  redirectUri: string;
  topicName?: string;
  delivery: "push" | "pull";
  subscriptionName?: string;
  postProcess: { addLabel?: string; markRead?: boolean };
};
export type GmailSecrets = { clientSecret: string; tokens?: Record<string, unknown> };

export type GraphConfig = { tenantId: string; clientId: string; redirectUri: string };
export type GraphSecrets = { clientSecret: string; tokens?: Record<string, unknown> };
