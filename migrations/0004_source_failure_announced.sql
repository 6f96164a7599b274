ALTER TABLE "mail_sources" ADD COLUMN "failure_announced_at" timestamp (3) with time zone;--> statement-breakpoint
-- Failures recorded before this column existed were announced the moment they happened.
UPDATE "mail_sources" SET "failure_announced_at" = coalesce("failing_since", "last_error_at", now()) WHERE "failing_since" IS NOT NULL OR "status" IN ('error', 'needs_reauth');
