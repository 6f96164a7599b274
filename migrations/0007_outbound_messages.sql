CREATE TABLE "outbound_attempts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"outbound_message_id" uuid NOT NULL,
	"attempted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"outcome" text NOT NULL,
	"error" text,
	"provider_id" text,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbound_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"ticket_id" uuid,
	"source_id" uuid,
	"kind" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"in_reply_to_inbound_id" uuid,
	"recipient" text NOT NULL,
	"message_id" text,
	"raw" "bytea",
	"to" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cc" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"bcc" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"subject" text,
	"provider_thread_id" text,
	"idempotency_key" text,
	"request_hash" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"leased_until" timestamp (3) with time zone,
	"provider_id" text,
	"last_error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "ticket_messages" ADD COLUMN "direction" text DEFAULT 'inbound' NOT NULL;--> statement-breakpoint
ALTER TABLE "ticket_messages" ADD COLUMN "outbound_message_id" uuid;--> statement-breakpoint
ALTER TABLE "outbound_attempts" ADD CONSTRAINT "outbound_attempts_outbound_message_id_outbound_messages_id_fk" FOREIGN KEY ("outbound_message_id") REFERENCES "public"."outbound_messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_messages" ADD CONSTRAINT "outbound_messages_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_messages" ADD CONSTRAINT "outbound_messages_source_id_mail_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."mail_sources"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_messages" ADD CONSTRAINT "outbound_messages_in_reply_to_inbound_id_inbound_messages_id_fk" FOREIGN KEY ("in_reply_to_inbound_id") REFERENCES "public"."inbound_messages"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "outbound_attempts_message" ON "outbound_attempts" USING btree ("outbound_message_id","attempted_at");--> statement-breakpoint
CREATE INDEX "outbound_messages_due" ON "outbound_messages" USING btree ("next_attempt_at") WHERE "outbound_messages"."status" in ('queued', 'sending');--> statement-breakpoint
CREATE INDEX "outbound_messages_ticket" ON "outbound_messages" USING btree ("ticket_id","created_at");--> statement-breakpoint
CREATE INDEX "outbound_messages_status" ON "outbound_messages" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "outbound_messages_source_waiting" ON "outbound_messages" USING btree ("source_id") WHERE "outbound_messages"."status" = 'waiting_for_authorization';--> statement-breakpoint
CREATE INDEX "outbound_messages_recipient" ON "outbound_messages" USING btree ("recipient","created_at") WHERE "outbound_messages"."kind" = 'acknowledgement';--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_messages_idempotency_key" ON "outbound_messages" USING btree ("idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_messages_acknowledgement" ON "outbound_messages" USING btree ("in_reply_to_inbound_id") WHERE "outbound_messages"."kind" = 'acknowledgement';--> statement-breakpoint
ALTER TABLE "ticket_messages" ADD CONSTRAINT "ticket_messages_outbound_message_id_outbound_messages_id_fk" FOREIGN KEY ("outbound_message_id") REFERENCES "public"."outbound_messages"("id") ON DELETE set null ON UPDATE no action;