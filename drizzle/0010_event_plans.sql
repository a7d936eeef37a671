CREATE TABLE "event_plans" (
	"key" text PRIMARY KEY NOT NULL,
	"plan" json NOT NULL
);
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "plan_key" text;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_plan_key_event_plans_key_fk" FOREIGN KEY ("plan_key") REFERENCES "public"."event_plans"("key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_plan_key_idx" ON "events" USING btree ("plan_key");