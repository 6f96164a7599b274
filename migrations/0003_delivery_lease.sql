ALTER TABLE "webhook_deliveries" ADD COLUMN "leased_until" timestamp (3) with time zone;--> statement-breakpoint
-- Room on each page for the lease's in-place (HOT) update; drizzle-kit does not write storage parameters.
ALTER TABLE "webhook_deliveries" SET (fillfactor = 70);
