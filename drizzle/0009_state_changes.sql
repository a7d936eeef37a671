CREATE TABLE "state_change_horizon" (
	"id" integer PRIMARY KEY NOT NULL,
	"below_xid" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "state_removals" (
	"table_name" text NOT NULL,
	"key" text NOT NULL,
	"change_xid" bigint NOT NULL,
	"removed_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent_drains" ADD COLUMN "change_xid" bigint;--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "change_xid" bigint;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "change_xid" bigint;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "change_xid" bigint;--> statement-breakpoint
ALTER TABLE "role_policies" ADD COLUMN "change_xid" bigint;--> statement-breakpoint
CREATE INDEX "state_removals_change_xid_idx" ON "state_removals" USING btree ("change_xid");--> statement-breakpoint
INSERT INTO "state_change_horizon" ("id", "below_xid") VALUES (1, 0);--> statement-breakpoint
-- Warm standbys (master/applier/standby.ts) read what changed since their last read: every write
-- to a followed table stamps the row with its transaction, every delete leaves a removal.
CREATE FUNCTION "pacer_stamp_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change_xid := pg_current_xact_id()::text::bigint;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE FUNCTION "pacer_record_removal"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "state_removals" ("table_name", "key", "change_xid")
    VALUES (TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0], pg_current_xact_id()::text::bigint);
  RETURN OLD;
END
$$;--> statement-breakpoint
CREATE TRIGGER "apps_stamp" BEFORE INSERT OR UPDATE ON "apps" FOR EACH ROW EXECUTE FUNCTION "pacer_stamp_change"();--> statement-breakpoint
CREATE TRIGGER "instances_stamp" BEFORE INSERT OR UPDATE ON "instances" FOR EACH ROW EXECUTE FUNCTION "pacer_stamp_change"();--> statement-breakpoint
CREATE TRIGGER "deployments_stamp" BEFORE INSERT OR UPDATE ON "deployments" FOR EACH ROW EXECUTE FUNCTION "pacer_stamp_change"();--> statement-breakpoint
CREATE TRIGGER "role_policies_stamp" BEFORE INSERT OR UPDATE ON "role_policies" FOR EACH ROW EXECUTE FUNCTION "pacer_stamp_change"();--> statement-breakpoint
CREATE TRIGGER "agent_drains_stamp" BEFORE INSERT OR UPDATE ON "agent_drains" FOR EACH ROW EXECUTE FUNCTION "pacer_stamp_change"();--> statement-breakpoint
CREATE TRIGGER "apps_removal" AFTER DELETE ON "apps" FOR EACH ROW EXECUTE FUNCTION "pacer_record_removal"('id');--> statement-breakpoint
CREATE TRIGGER "instances_removal" AFTER DELETE ON "instances" FOR EACH ROW EXECUTE FUNCTION "pacer_record_removal"('instance_id');--> statement-breakpoint
CREATE TRIGGER "deployments_removal" AFTER DELETE ON "deployments" FOR EACH ROW EXECUTE FUNCTION "pacer_record_removal"('id');--> statement-breakpoint
CREATE TRIGGER "role_policies_removal" AFTER DELETE ON "role_policies" FOR EACH ROW EXECUTE FUNCTION "pacer_record_removal"('role');--> statement-breakpoint
CREATE TRIGGER "agent_drains_removal" AFTER DELETE ON "agent_drains" FOR EACH ROW EXECUTE FUNCTION "pacer_record_removal"('agent_id');
