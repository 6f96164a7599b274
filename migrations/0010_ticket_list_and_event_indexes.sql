CREATE INDEX "events_ticket" ON "events" USING btree (("payload" #>> '{data,ticket,id}'));--> statement-breakpoint
CREATE INDEX "tickets_created" ON "tickets" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "tickets_source" ON "tickets" USING btree ("source_id","created_at");