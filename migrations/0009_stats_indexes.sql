CREATE INDEX "inbound_messages_source_received" ON "inbound_messages" USING btree ("source_id","received_at");--> statement-breakpoint
CREATE INDEX "inbound_messages_processed" ON "inbound_messages" USING btree ("processed_at","status","received_at") WHERE "inbound_messages"."processed_at" is not null;--> statement-breakpoint
CREATE INDEX "outbound_messages_sent" ON "outbound_messages" USING btree ("sent_at") WHERE "outbound_messages"."sent_at" is not null;--> statement-breakpoint
CREATE INDEX "webhook_attempts_attempted" ON "webhook_attempts" USING btree ("attempted_at","status_code");