ALTER TABLE "attachments" ADD COLUMN "original_filename" text;--> statement-breakpoint
-- Rows from before the column: their filename is the sender's name as it was kept (trimmed, or made
-- up when the part had none), the best record of it there is. The API makes it safe when read.
UPDATE "attachments" SET "original_filename" = "filename";
