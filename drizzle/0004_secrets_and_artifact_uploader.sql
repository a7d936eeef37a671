CREATE TABLE "secrets" (
	"path" text PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"sealed" "bytea" NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "artifacts" ADD COLUMN "uploader" text;